package formula

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar of a formula as participle structs. Positions are kept on every node so that
// semantic errors (unknown element, bad amount, misplaced suffix) can name their column.

type astFormula struct {
	Pos        lexer.Position
	Terms      []*astTerm     `parser:"@@+"`
	Deficiency *astDeficiency `parser:"@@?"`
}

type astTerm struct {
	Pos     lexer.Position
	Element *astElement `parser:"  @@"`
	Group   *astGroup   `parser:"| @@"`
}

type astElement struct {
	Pos    lexer.Position
	Symbol string     `parser:"@Symbol"`
	Amount *astAmount `parser:"@@?"`
}

type astGroup struct {
	Pos    lexer.Position
	Open   string     `parser:"@(\"(\" | \"[\")"`
	Terms  []*astTerm `parser:"@@+"`
	Close  string     `parser:"@(\")\" | \"]\")"`
	Amount *astAmount `parser:"@@?"`
}

type astAmount struct {
	Pos  lexer.Position
	Text string `parser:"@Number"`
}

type astDeficiency struct {
	Pos  lexer.Position
	Text string `parser:"@Deficiency"`
}

// formulaLexer tokenizes a formula that has already passed the character pre-scan
// (checkChars), so every rune matches one of these rules. Number is deliberately loose
// ("1.2.3", ".5") so that a malformed amount is reported as such by checkAmount, with a
// fix, instead of as a lexing failure. Lower exists only to give lower-case symbols a
// precise error.
var formulaLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Symbol", Pattern: `[A-Z][a-z]*`},
	{Name: "Deficiency", Pattern: `[-−–][dδ]`},
	{Name: "Number", Pattern: `[0-9.]+`},
	{Name: "Punct", Pattern: `[()\[\]]`},
	{Name: "Lower", Pattern: `[a-z]+`},
	{Name: "Minus", Pattern: `[-−–]`},
	{Name: "Delta", Pattern: `δ`},
})

var parser = participle.MustBuild[astFormula](participle.Lexer(formulaLexer))

var (
	tokLower  = formulaLexer.Symbols()["Lower"]
	tokNumber = formulaLexer.Symbols()["Number"]
	tokMinus  = formulaLexer.Symbols()["Minus"]
	tokDelta  = formulaLexer.Symbols()["Delta"]
	tokSymbol = formulaLexer.Symbols()["Symbol"]
	tokDefic  = formulaLexer.Symbols()["Deficiency"]
	tokPunct  = formulaLexer.Symbols()["Punct"]
)
