package winsim

// The syntax tree of the PowerShell subset.

type stmt interface{ line() int }

type pos struct{ ln int }

func (p pos) line() int { return p.ln }

// pipeStmt is a pipeline, its output assigned to target when there is one.
type pipeStmt struct {
	pos
	target expr // a variable, member or index; nil: output goes on
	op     string
	pipe   *pipeline
}

type ifStmt struct {
	pos
	conds  []*pipeline
	blocks [][]stmt
	els    []stmt
}

type foreachStmt struct {
	pos
	v    string
	in   *pipeline
	body []stmt
}

type tryStmt struct {
	pos
	body, catch []stmt
}

type exitStmt struct {
	pos
	code expr
}

type throwStmt struct {
	pos
	msg expr
}

type returnStmt struct {
	pos
	v *pipeline
}

// pipeline is an expression or a command, then commands.
type pipeline struct {
	first expr // nil when the pipeline starts with a command
	cmds  []*command
}

type command struct {
	pos
	name   string
	invoke expr // & expr
	args   []arg
}

type arg struct {
	param string // "" for a positional value
	value expr   // nil for a switch without :value
	splat string // @var
	text  string // the argument as written, for error messages
}

type expr interface{}

type (
	litExpr    struct{ v value }
	varExpr    struct{ name string }
	strExpr    struct{ parts []strPart }
	memberExpr struct {
		x    expr
		name string
	}
	indexExpr struct{ x, i expr }
	callExpr  struct {
		x    expr
		name string
		args []expr
	}
	staticExpr struct {
		typ, name string
		args      []expr
		call      bool
	}
	castExpr struct {
		typ string
		x   expr
	}
	typeExpr  struct{ typ string }
	arrayExpr struct{ items []expr }
	hashExpr  struct{ keys, vals []expr }
	subExpr   struct{ body []stmt } // $( )
	arraySub  struct{ body []stmt } // @( )
	parenExpr struct{ p *pipeline }
	blockExpr struct{ sb *scriptBlock }
	unaryExpr struct {
		op string
		x  expr
	}
	binaryExpr struct {
		op   string
		l, r expr
	}
)

// scriptBlock is parsed code with its param() names.
type scriptBlock struct {
	params []string
	body   []stmt
}
