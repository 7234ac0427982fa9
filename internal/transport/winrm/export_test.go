package winrm

import "net/http"

// WrapTransportForTest wraps the HTTP transport of every client dialled
// until the returned func is called.
func WrapTransportForTest(f func(http.RoundTripper) http.RoundTripper) (restore func()) {
	wrapForTest = f
	return func() { wrapForTest = nil }
}
