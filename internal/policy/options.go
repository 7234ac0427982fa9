package policy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// rawEgress is options.egress: true (every host), false, or a list of
// roles whose hosts filter their output.
type rawEgress struct {
	all   bool
	roles StringList
}

// UnmarshalYAML implements go-yaml's InterfaceUnmarshaler.
func (e *rawEgress) UnmarshalYAML(unmarshal func(any) error) error {
	var b bool
	if err := unmarshal(&b); err == nil {
		e.all = b
		return nil
	}
	if err := unmarshal(&e.roles); err != nil {
		return fmt.Errorf("egress: want true, false or a list of roles whose hosts filter their output: %w", err)
	}
	return nil
}

// parseEgress reads the egress switch and the essential egress services.
func (pb *Playbook) parseEgress(raw rawOptions, bad func([]any, string, ...any)) {
	pb.Options.Egress = Egress{All: raw.Egress.all}
	for i, r := range raw.Egress.roles {
		if _, ok := pb.Roles[r]; !ok {
			bad([]any{"options", "egress", i}, "egress: %s is not a declared role (a list here names the roles whose hosts filter their output; true means every host)", yamlsrc.Quote(r))
			continue
		}
		pb.Options.Egress.Roles = append(pb.Options.Egress.Roles, r)
	}
	for _, o := range []struct {
		key  string
		list []string
		dst  *[]string
	}{{"dns", raw.DNS, &pb.Options.DNS}, {"ntp", raw.NTP, &pb.Options.NTP}} {
		for i, e := range o.list {
			if _, err := ParseEndpoint(e); err != nil {
				bad([]any{"options", o.key, i}, "%v", err)
				continue
			}
			*o.dst = append(*o.dst, e)
		}
	}
}

// warnEgress flags essential-egress declarations that change nothing.
func (pb *Playbook) warnEgress() {
	if pb.Options.Egress.On() {
		return
	}
	for _, key := range []string{"dns", "ntp"} {
		list := pb.Options.DNS
		if key == "ntp" {
			list = pb.Options.NTP
		}
		if len(list) > 0 {
			pb.Warnings = append(pb.Warnings, pb.Doc.Errorf([]any{"options", key},
				"options.%s changes nothing: no host filters its output (options.egress is off)", key).Error())
		}
	}
}

// SetFeatures switches features on (true) or off (false) over what the
// playbook's options.features says, as --feature and --no-feature do. A
// name the playbook does not declare is an error listing the declared
// ones: a misspelt feature must not leave the policy as it was.
func (pb *Playbook) SetFeatures(set map[string]bool) error {
	var unknown []string
	for name := range set {
		if _, ok := pb.Options.Features[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		declared := "none"
		if len(pb.Options.Features) > 0 {
			declared = strings.Join(sortedKeys(pb.Options.Features), ", ")
		}
		q := make([]string, len(unknown))
		for i, u := range unknown {
			q[i] = yamlsrc.Quote(u)
		}
		return fmt.Errorf("%s: feature %s is not declared in options.features (declared: %s)", pb.File, strings.Join(q, ", "), declared)
	}
	if len(set) == 0 {
		return nil
	}
	features := make(map[string]bool, len(pb.Options.Features))
	for k, v := range pb.Options.Features {
		features[k] = v
	}
	for k, v := range set {
		features[k] = v
	}
	pb.Options.Features = features
	return nil
}
