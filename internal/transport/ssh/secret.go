package ssh

import (
	"fmt"
	"log/slog"
)

const redacted = "[redacted]"

// Secret is a credential that never prints itself: every fmt verb, JSON,
// text marshalling and slog render it as "[redacted]". Convert it with
// string(s) only at the point of use.
type Secret string

// String implements fmt.Stringer.
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer so %#v of a Config stays clean too.
func (Secret) GoString() string { return redacted }

// Format implements fmt.Formatter; it covers verbs such as %x and %q that
// would otherwise bypass String.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON implements json.Marshaler.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler (YAML and other encoders).
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
