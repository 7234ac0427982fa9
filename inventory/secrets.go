package inventory

import (
	"fmt"
	"strings"
	"unicode"
)

// Secret-looking keys. Words are matched whole ("key" in "ssh_key", not in
// "keepalive"); fragments anywhere in the key with separators removed
// ("enablepassword", "snmpcommunity"). Redacting a harmless value only
// hides it from output; missing a credential prints it, so the lists lean
// wide.
var (
	secretWords     = []string{"pass", "pw", "pwd", "key", "keys", "pkey", "psk", "pin"}
	secretFragments = []string{"password", "passwd", "passphrase", "passcode", "secret", "token", "community",
		"credential", "privatekey", "privkey", "apikey", "accesskey", "authkey", "sshkey", "presharedkey", "certkey",
		"authsecondary"} // scrapli's enable password
)

// IsSecretKey reports whether a data or connection_options key names a
// credential: a password, secret, passphrase, token, key material, SNMP
// community, enable or auth password. Case and separators do not matter
// (enable_password, enablePassword, Enable-Password).
func IsSecretKey(key string) bool {
	words := splitWords(key)
	joined := strings.Join(words, "")
	for _, w := range words {
		for _, s := range secretWords {
			if w == s {
				return true
			}
		}
	}
	for _, f := range secretFragments {
		if strings.Contains(joined, f) {
			return true
		}
	}
	return false
}

// splitWords lowercases key and splits it at non-alphanumerics and at
// camelCase boundaries.
func splitWords(key string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	prevLower := false
	for _, r := range key {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			flush()
		}
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		cur = append(cur, unicode.ToLower(r))
	}
	flush()
	return words
}

// hideSecrets replaces, in place and at any depth, the value of every
// secret-looking key with a Secret (every scalar of it, when it is a list
// or map), so that nothing printing inventory data can show it.
func hideSecrets(v any) {
	switch m := v.(type) {
	case map[string]any:
		for k, x := range m {
			if IsSecretKey(k) {
				m[k] = asSecret(x)
			} else {
				hideSecrets(x)
			}
		}
	case map[any]any:
		for k, x := range m {
			if IsSecretKey(fmt.Sprint(k)) {
				m[k] = asSecret(x)
			} else {
				hideSecrets(x)
			}
		}
	case []any:
		for _, x := range m {
			hideSecrets(x)
		}
	}
}

// asSecret returns v with every scalar a Secret, keeping lists and maps.
// It copies rather than edits: an alias may share the list with a key that
// is no secret.
func asSecret(v any) any {
	switch m := v.(type) {
	case nil, Secret:
		return v
	case string:
		return Secret(m)
	case map[string]any:
		out := make(map[string]any, len(m))
		for k, x := range m {
			out[k] = asSecret(x)
		}
		return out
	case map[any]any:
		out := make(map[any]any, len(m))
		for k, x := range m {
			out[k] = asSecret(x)
		}
		return out
	case []any:
		out := make([]any, len(m))
		for i, x := range m {
			out[i] = asSecret(x)
		}
		return out
	}
	return Secret(fmt.Sprint(v))
}

// plain is v as --limit data.KEY=VALUE compares it: a Secret by its value.
func plain(v any) string {
	if s, ok := v.(Secret); ok {
		return s.Reveal()
	}
	return fmt.Sprint(v)
}

// SecretValues returns every credential the inventory holds, revealed:
// host passwords and every Secret in data and connection_options. A log
// handler scrubs them from whatever it writes.
func (inv *Inventory) SecretValues() []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch m := v.(type) {
		case Secret:
			out = append(out, m.Reveal())
		case map[string]any:
			for _, x := range m {
				walk(x)
			}
		case map[any]any:
			for _, x := range m {
				walk(x)
			}
		case []any:
			for _, x := range m {
				walk(x)
			}
		}
	}
	for _, h := range inv.Hosts {
		out = append(out, h.Password.Reveal())
		walk(h.Data)
		walk(h.ConnectionOptions)
	}
	return out
}

// UnsetSecret is a credential written as ${ENV} whose variable is not set.
type UnsetSecret struct {
	Host string
	// Key is where the host has it: password, data.KEY…,
	// connection_options.KEY….
	Key string
	Var string
}

func (u UnsetSecret) Error() string {
	return fmt.Sprintf("host %s: %s is ${%s}, which is not set: export %s (fwpush asks for it when run on a terminal)", u.Host, u.Key, u.Var, u.Var)
}

// UnsetSecrets lists every credential of hosts written as a ${ENV}
// reference whose variable is not set (nor provided): the password and
// each secret of data and connection_options. Anything that connects
// checks first, so a device is never sent an empty password.
func UnsetSecrets(hosts []*Host) []UnsetSecret {
	var out []UnsetSecret
	for _, h := range hosts {
		check := func(key string, s Secret) {
			if name, ok := s.EnvVar(); ok {
				if _, set := s.lookup(); !set {
					out = append(out, UnsetSecret{Host: h.Name, Key: key, Var: name})
				}
			}
		}
		check("password", h.Password)
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch m := v.(type) {
			case Secret:
				check(path, m)
			case map[string]any:
				for _, k := range sortedKeys(m) {
					walk(path+"."+k, m[k])
				}
			case map[any]any:
				for k, x := range m {
					walk(path+"."+fmt.Sprint(k), x)
				}
			case []any:
				for i, x := range m {
					walk(fmt.Sprintf("%s[%d]", path, i), x)
				}
			}
		}
		walk("data", h.Data)
		walk("connection_options", h.ConnectionOptions)
	}
	return out
}
