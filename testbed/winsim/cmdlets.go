package winsim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// cmdlet returns the command called name, or nil.
func (d *Device) cmdlet(name string) *cmdlet {
	n := strings.ToLower(name)
	if a, ok := aliases[n]; ok {
		n = a
	}
	return cmdlets[n]
}

// aliases are PowerShell's built-in aliases the simulator knows.
var aliases = map[string]string{"echo": "write-output"}

var cmdlets = map[string]*cmdlet{}

func register(cs ...*cmdlet) {
	for _, c := range cs {
		if c.noun == "" {
			c.noun = c.name
		}
		cmdlets[strings.ToLower(c.name)] = c
	}
}

func strp(name string, pos int, mandatory bool, aliases ...string) param {
	return param{name: name, kind: kString, position: pos, mandatory: mandatory, aliases: aliases}
}

func strsp(name string, pos int, aliases ...string) param {
	return param{name: name, kind: kStrings, position: pos, aliases: aliases}
}

func sw(name string) param { return param{name: name, kind: kSwitch, position: -1} }

func enum(name, typ string, many bool, values ...string) param {
	k := kEnum
	if many {
		k = kEnums
	}
	return param{name: name, kind: k, enumType: typ, values: values, position: -1}
}

func pipeObj(name string, pos int, mandatory bool) param {
	return param{name: name, kind: kObject, position: pos, mandatory: mandatory, pipe: true}
}

// notFound is the error the CIM cmdlets give when a query matches nothing.
func notFound(class, prop, val, cmd string) *psError {
	return &psError{msg: fmt.Sprintf("No %s objects found with property '%s' equal to '%s'.  Verify the value of the property and retry.", class, prop, val),
		category: "ObjectNotFound", fqid: "CmdletizationQuery_NotFound_" + prop + "," + cmd, target: val, cmd: cmd, exType: "CimJobException"}
}

func init() {
	register(
		&cmdlet{name: "Out-Null", params: []param{pipeObj("InputObject", -1, false)}, run: func(*interp, *bound) []value { return nil }},
		&cmdlet{name: "Write-Output", params: []param{pipeObj("InputObject", 0, false)}, run: func(in *interp, b *bound) []value {
			return enumerate(b.vals["InputObject"])
		}},
		&cmdlet{name: "ConvertTo-Json", noun: "Microsoft.PowerShell.Commands.ConvertToJsonCommand",
			params: []param{pipeObj("InputObject", 0, true), {name: "Depth", kind: kInt, position: -1}, sw("Compress")},
			run: func(in *interp, b *bound) []value {
				depth := 2
				if b.has("Depth") {
					depth = b.vals["Depth"].(int)
				}
				s, err := toJSON(b.vals["InputObject"], depth, b.flag("Compress"))
				if err != nil {
					in.cmdError(b.action, &psError{msg: err.Error(), category: "InvalidOperation", fqid: "JsonSerialization,Microsoft.PowerShell.Commands.ConvertToJsonCommand", cmd: "ConvertTo-Json"})
					return nil
				}
				return []value{s}
			}},
		&cmdlet{name: "ConvertFrom-Json", noun: "Microsoft.PowerShell.Commands.ConvertFromJsonCommand",
			params: []param{pipeObj("InputObject", 0, true)},
			run: func(in *interp, b *bound) []value {
				v, err := fromJSON(toString(b.vals["InputObject"]))
				if err != nil {
					in.cmdError(b.action, &psError{msg: "Invalid JSON primitive: " + err.Error(), category: "NotSpecified", fqid: "System.ArgumentException,Microsoft.PowerShell.Commands.ConvertFromJsonCommand", cmd: "ConvertFrom-Json", exType: "ArgumentException"})
					return nil
				}
				return enumerate(v)
			}},
		&cmdlet{name: "Get-Date", noun: "Microsoft.PowerShell.Commands.GetDateCommand", run: func(in *interp, b *bound) []value {
			return []value{in.dev.clock.Now().Local()}
		}},
	)
	registerFiles()
	registerFirewall()
	registerTasks()
}

// Files.

func registerFiles() {
	path := func(b *bound) string {
		if b.has("LiteralPath") {
			return b.str("LiteralPath")
		}
		return b.str("Path")
	}
	pathParams := []param{strp("Path", 0, false), strp("LiteralPath", -1, false, "pspath", "lp")}
	register(
		&cmdlet{name: "Join-Path", noun: "Microsoft.PowerShell.Commands.JoinPathCommand",
			params: []param{strp("Path", 0, true), strp("ChildPath", 1, true)},
			run: func(in *interp, b *bound) []value {
				return []value{strings.TrimRight(b.str("Path"), `\`) + `\` + strings.TrimLeft(b.str("ChildPath"), `\`)}
			}},
		&cmdlet{name: "Test-Path", noun: "Microsoft.PowerShell.Commands.TestPathCommand",
			params: append(append([]param(nil), pathParams...), enum("PathType", "Microsoft.PowerShell.Commands.TestPathType", false, "Any", "Container", "Leaf")),
			run: func(in *interp, b *bound) []value {
				p := normPath(path(b))
				in.dev.mu.Lock()
				defer in.dev.mu.Unlock()
				_, file := in.dev.files[p]
				_, dir := in.dev.dirs[p]
				switch b.str("PathType") {
				case "Leaf":
					return []value{file}
				case "Container":
					return []value{dir}
				}
				return []value{file || dir}
			}},
		&cmdlet{name: "New-Item", noun: "Microsoft.PowerShell.Commands.NewItemCommand", shouldProcess: true,
			params: []param{strp("Path", 0, true), enum("ItemType", "System.String", false, "Directory", "File"), sw("Force"), {name: "Value", kind: kObject, position: -1}},
			run: func(in *interp, b *bound) []value {
				d := in.dev
				d.mu.Lock()
				defer d.mu.Unlock()
				p := normPath(b.str("Path"))
				if b.str("ItemType") != "Directory" {
					in.fail(&psError{msg: invented + "New-Item is only modelled for directories", category: "NotImplemented", fqid: "NotModelled"})
				}
				if _, ok := d.dirs[p]; ok {
					if !b.flag("Force") {
						in.cmdError(b.action, &psError{msg: fmt.Sprintf("An item with the specified name %s already exists.", b.str("Path")), category: "ResourceExists", fqid: "DirectoryExist,Microsoft.PowerShell.Commands.NewItemCommand", target: b.str("Path"), exType: "IOException"})
					}
					return nil
				}
				// Like -Force, create the parents too; without it a missing
				// parent is an error.
				var chain []string
				for q := p; ; q = parentDir(q) {
					if _, ok := d.dirs[q]; ok {
						break
					}
					if _, isFile := d.files[q]; isFile || len(q) <= 3 {
						in.fail(&psError{msg: fmt.Sprintf("Could not find a part of the path '%s'.", b.str("Path")), category: "WriteError", fqid: "CreateDirectoryIOError,Microsoft.PowerShell.Commands.NewItemCommand"})
					}
					chain = append(chain, q)
				}
				if len(chain) > 1 && !b.flag("Force") {
					in.cmdError(b.action, &psError{msg: fmt.Sprintf("Could not find a part of the path '%s'.", b.str("Path")), category: "WriteError", fqid: "CreateDirectoryIOError,Microsoft.PowerShell.Commands.NewItemCommand"})
					return nil
				}
				for _, q := range chain {
					d.dirs[q] = d.clock.Now()
				}
				return nil
			}},
		&cmdlet{name: "Set-Content", noun: "Microsoft.PowerShell.Commands.SetContentCommand", shouldProcess: true,
			params: append(append([]param(nil), pathParams...), param{name: "Value", kind: kObject, position: 1, pipe: true},
				enum("Encoding", "Microsoft.PowerShell.Commands.FileSystemCmdletProviderEncoding", false, "ASCII", "UTF8", "Unicode", "Default"), sw("NoNewline"), sw("Force")),
			run: func(in *interp, b *bound) []value { return in.writeFile(b, path(b), false) }},
		&cmdlet{name: "Add-Content", noun: "Microsoft.PowerShell.Commands.AddContentCommand", shouldProcess: true,
			params: append(append([]param(nil), pathParams...), param{name: "Value", kind: kObject, position: 1, pipe: true},
				enum("Encoding", "Microsoft.PowerShell.Commands.FileSystemCmdletProviderEncoding", false, "ASCII", "UTF8", "Unicode", "Default")),
			run: func(in *interp, b *bound) []value { return in.writeFile(b, path(b), true) }},
		&cmdlet{name: "Get-Content", noun: "Microsoft.PowerShell.Commands.GetContentCommand",
			params: append(append([]param(nil), pathParams...), sw("Raw"), enum("Encoding", "Microsoft.PowerShell.Commands.FileSystemCmdletProviderEncoding", false, "ASCII", "UTF8", "Unicode", "Default")),
			run: func(in *interp, b *bound) []value {
				in.dev.mu.Lock()
				s, ok := in.dev.files[normPath(path(b))]
				in.dev.mu.Unlock()
				if !ok {
					in.cmdError(b.action, &psError{msg: fmt.Sprintf("Cannot find path '%s' because it does not exist.", path(b)), category: "ObjectNotFound", fqid: "PathNotFound,Microsoft.PowerShell.Commands.GetContentCommand", target: path(b), exType: "ItemNotFoundException"})
					return nil
				}
				if b.flag("Raw") {
					return []value{s}
				}
				var out []value
				for _, l := range strings.Split(strings.TrimSuffix(strings.ReplaceAll(s, "\r\n", "\n"), "\n"), "\n") {
					out = append(out, l)
				}
				return out
			}},
		&cmdlet{name: "Remove-Item", noun: "Microsoft.PowerShell.Commands.RemoveItemCommand", shouldProcess: true,
			params: append(append([]param(nil), pathParams...), sw("Recurse"), sw("Force")),
			run: func(in *interp, b *bound) []value {
				d := in.dev
				d.mu.Lock()
				defer d.mu.Unlock()
				p := normPath(path(b))
				if _, ok := d.files[p]; ok {
					delete(d.files, p)
					return nil
				}
				if _, ok := d.dirs[p]; !ok {
					in.cmdError(b.action, &psError{msg: fmt.Sprintf("Cannot find path '%s' because it does not exist.", path(b)), category: "ObjectNotFound", fqid: "PathNotFound,Microsoft.PowerShell.Commands.RemoveItemCommand", target: path(b), exType: "ItemNotFoundException"})
					return nil
				}
				var inside []string
				for f := range d.files {
					if strings.HasPrefix(f, p+`\`) {
						inside = append(inside, f)
					}
				}
				for q := range d.dirs {
					if strings.HasPrefix(q, p+`\`) {
						inside = append(inside, q)
					}
				}
				if len(inside) > 0 && !b.flag("Recurse") {
					in.fail(&psError{msg: invented + "removing a non-empty directory without -Recurse would prompt; not modelled", category: "NotImplemented", fqid: "NotModelled"})
				}
				for _, q := range inside {
					delete(d.files, q)
					delete(d.dirs, q)
				}
				delete(d.dirs, p)
				return nil
			}},
		&cmdlet{name: "Get-ChildItem", noun: "Microsoft.PowerShell.Commands.GetChildItemCommand",
			params: append(append([]param(nil), pathParams...), sw("Directory")),
			run: func(in *interp, b *bound) []value {
				d := in.dev
				d.mu.Lock()
				defer d.mu.Unlock()
				p := normPath(path(b))
				if _, ok := d.dirs[p]; !ok {
					in.cmdError(b.action, &psError{msg: fmt.Sprintf("Cannot find path '%s' because it does not exist.", path(b)), category: "ObjectNotFound", fqid: "PathNotFound,Microsoft.PowerShell.Commands.GetChildItemCommand", target: path(b), exType: "ItemNotFoundException"})
					return nil
				}
				var names []string
				for q := range d.dirs {
					if parentDir(q) == p && q != p {
						names = append(names, q)
					}
				}
				sort.Strings(names)
				var out []value
				for _, q := range names {
					out = append(out, newObject("System.IO.DirectoryInfo", "Name", q[strings.LastIndex(q, `\`)+1:], "FullName", q, "LastWriteTime", d.dirs[q].Local()))
				}
				return out
			}},
	)
}

func (in *interp) writeFile(b *bound, path string, appendTo bool) []value {
	d := in.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	p := normPath(path)
	if _, ok := d.dirs[parentDir(p)]; !ok {
		in.cmdError(b.action, &psError{msg: fmt.Sprintf("Could not find a part of the path '%s'.", path), category: "ObjectNotFound", fqid: "GetContentWriterDirectoryNotFoundError", target: path, exType: "DirectoryNotFoundException"})
		return nil
	}
	var sb strings.Builder
	for _, v := range enumerate(b.vals["Value"]) {
		sb.WriteString(toString(v))
		if !b.flag("NoNewline") {
			sb.WriteString("\r\n")
		}
	}
	if appendTo {
		d.files[p] += sb.String()
	} else {
		d.files[p] = sb.String()
	}
	d.dirs[parentDir(p)] = d.clock.Now()
	return nil
}

var _ = time.Second
