package smoke

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/fwpush/fwpush/testbed"
)

func hosts(n int) []testbed.HostSpec {
	var hs []testbed.HostSpec
	for i := 0; i < n; i++ {
		hs = append(hs, testbed.HostSpec{Name: fmt.Sprintf("h%d", i), Addrs: []netip.Prefix{
			netip.MustParsePrefix(fmt.Sprintf("198.18.%d.%d/15", 1+i/200, 10+i%200)),
			netip.MustParsePrefix(fmt.Sprintf("2001:db8:1::%x/32", 0x10+i))}, TCP: []uint16{80}, UDP: []uint16{53}})
	}
	return hs
}

func TestSmoke(t *testing.T) {
	for _, par := range []int{16} { n := 100
		start := time.Now()
		l, err := testbed.Start(context.Background(), hosts(n), testbed.WithPrefix(testbed.RandomPrefix()), testbed.WithController(), testbed.WithParallel(par))
		if err != nil {
			t.Fatal(err)
		}
		up := time.Since(start)
		start = time.Now()
		err = l.Close()
		t.Logf("par=%d n=%d up %s down %s err %v", par, n, up, time.Since(start), err)
	}
}
