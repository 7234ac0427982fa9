package netconf

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestReplyErrors(t *testing.T) {
	tests := map[string]struct {
		reply   string
		want    []RPCError // the error-severity ones, in order
		wantMsg string
	}{
		"ok": {
			reply: `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="1"><ok/></rpc-reply>`,
		},
		"lock-denied (RFC 6241 example)": {
			reply: `<rpc-reply message-id="101" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">
  <rpc-error>
    <error-type>protocol</error-type>
    <error-tag>lock-denied</error-tag>
    <error-severity>error</error-severity>
    <error-message xml:lang="en">Lock failed, lock is already held</error-message>
    <error-info>
      <session-id>454</session-id>
    </error-info>
  </rpc-error>
</rpc-reply>`,
			want: []RPCError{{Type: "protocol", Tag: "lock-denied", Severity: "error",
				Message: "Lock failed, lock is already held", Info: ErrorInfo{SessionID: "454"}}},
			wantMsg: "rpc-error lock-denied (protocol): Lock failed, lock is already held; held by session-id 454",
		},
		"lock held outside NETCONF": {
			reply: `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><rpc-error><error-type>protocol</error-type>` +
				`<error-tag>lock-denied</error-tag><error-severity>error</error-severity><error-info><session-id>0</session-id></error-info></rpc-error></rpc-reply>`,
			want:    []RPCError{{Type: "protocol", Tag: "lock-denied", Severity: "error", Info: ErrorInfo{SessionID: "0"}}},
			wantMsg: "rpc-error lock-denied (protocol); held by a non-NETCONF entity (session-id 0)",
		},
		"netconfd style, prefixed and indented": {
			reply: `<rpc-reply message-id="7" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">
 <rpc-error>
  <error-type>protocol</error-type>
  <error-tag>unknown-element</error-tag>
  <error-severity>error</error-severity>
  <error-app-tag>data-invalid</error-app-tag>
  <error-path>
    /nc:rpc/nc:edit-config/nc:config/helloworld:helloworld
  </error-path>
  <error-message xml:lang="en">unknown object</error-message>
  <error-info>
   <bad-element>helloworld:nosuch</bad-element>
   <error-number xmlns="http://netconfcentral.org/ns/yuma-ncx">365</error-number>
  </error-info>
 </rpc-error>
</rpc-reply>`,
			want: []RPCError{{Type: "protocol", Tag: "unknown-element", Severity: "error", AppTag: "data-invalid",
				Path: "/nc:rpc/nc:edit-config/nc:config/helloworld:helloworld", Message: "unknown object",
				Info: ErrorInfo{BadElement: "helloworld:nosuch"}}},
			wantMsg: "rpc-error unknown-element (protocol): unknown object; path /nc:rpc/nc:edit-config/nc:config/helloworld:helloworld; " +
				"bad-element helloworld:nosuch; app-tag data-invalid",
		},
		"warning only": {
			reply: `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><rpc-error><error-type>application</error-type>` +
				`<error-tag>operation-failed</error-tag><error-severity>warning</error-severity></rpc-error><ok/></rpc-reply>`,
		},
		"two errors and a warning": {
			reply: `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">` +
				`<rpc-error><error-type>application</error-type><error-tag>invalid-value</error-tag><error-severity>error</error-severity><error-path>/a</error-path></rpc-error>` +
				`<rpc-error><error-type>application</error-type><error-tag>operation-failed</error-tag><error-severity>warning</error-severity></rpc-error>` +
				`<rpc-error><error-type>rpc</error-type><error-tag>missing-attribute</error-tag><error-severity>error</error-severity>` +
				`<error-info><bad-attribute>message-id</bad-attribute><bad-element>rpc</bad-element></error-info></rpc-error></rpc-reply>`,
			want: []RPCError{
				{Type: "application", Tag: "invalid-value", Severity: "error", Path: "/a"},
				{Type: "rpc", Tag: "missing-attribute", Severity: "error", Info: ErrorInfo{BadAttribute: "message-id", BadElement: "rpc"}},
			},
			wantMsg: "rpc-error invalid-value (application); path /a; " +
				"rpc-error missing-attribute (rpc); bad-element rpc; bad-attribute message-id",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseReply([]byte(tc.reply))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("err = nil")
			}
			var got []RPCError
			var many RPCErrors
			var one *RPCError
			switch {
			case errors.As(err, &many):
				for _, e := range many {
					got = append(got, *e)
				}
			case errors.As(err, &one):
				got = []RPCError{*one}
			default:
				t.Fatalf("err %T is no rpc-error", err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(ErrorInfo{}, "Raw")); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if err.Error() != tc.wantMsg {
				t.Errorf("Error() = %q\nwant      %q", err.Error(), tc.wantMsg)
			}
		})
	}
}

func TestLockHolder(t *testing.T) {
	tests := map[string]struct {
		e      RPCError
		want   uint32
		wantOK bool
	}{
		"lock-denied": {RPCError{Tag: TagLockDenied, Info: ErrorInfo{SessionID: "12"}}, 12, true},
		"in-use":      {RPCError{Tag: TagInUse, Info: ErrorInfo{SessionID: "0"}}, 0, true},
		"no id":       {RPCError{Tag: TagLockDenied}, 0, false},
		"other tag":   {RPCError{Tag: TagInvalidValue, Info: ErrorInfo{SessionID: "3"}}, 0, false},
		"garbage":     {RPCError{Tag: TagLockDenied, Info: ErrorInfo{SessionID: "x"}}, 0, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := tc.e.LockHolder()
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("LockHolder() = %d, %v; want %d, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
