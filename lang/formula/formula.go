package formula

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/alecthomas/participle/v2"

	"github.com/ntedsl/ntedsl/stdlib/elements"
	"github.com/ntedsl/ntedsl/stdlib/materials"
)

// MaxDepth is the deepest nesting of groups that Parse accepts.
const MaxDepth = 8

// Formula is a parsed formula: its composition, its oxygen-deficiency flag and the
// positions of its parts.
type Formula struct {
	// Input is the string given to Parse.
	Input string
	// Components lists each element once, in order of first appearance, with its amount
	// summed over all groups.
	Components []Component
	// Occurrences lists every element symbol of the input in reading order, with the
	// amount it contributes (its own amount times the amounts of the groups around it).
	Occurrences []Occurrence
	// OxygenDeficient is true when the formula ends in "-d" or "-δ" (O12-δ). The O amount
	// is the nominal one written before the suffix.
	OxygenDeficient bool
	// DeficiencyCol is the column of the suffix's minus sign, 0 when there is none.
	DeficiencyCol int

	exact map[string]*big.Rat
}

// Component is an element of a formula with its total amount.
type Component struct {
	Symbol string
	Amount float64
	Col    int // column of the element's first occurrence
}

// Occurrence is one element symbol as it appears in the input.
type Occurrence struct {
	Symbol string
	Col    int
	Amount float64 // contribution to the composition, group amounts included
}

// Parse reads a formula. See the package documentation for the grammar. The error, if
// any, is a *Error.
func Parse(s string) (*Formula, error) {
	runes := []rune(s)
	first, last := 0, len(runes)-1
	for first <= last && unicode.IsSpace(runes[first]) {
		first++
	}
	for last >= first && unicode.IsSpace(runes[last]) {
		last--
	}
	if first > last {
		return nil, &Error{Formula: s, Msg: "empty formula"}
	}
	p := &parse{input: s, runes: runes, first: first, last: last}
	if err := p.checkChars(); err != nil {
		return nil, err
	}
	if err := p.checkBrackets(); err != nil {
		return nil, err
	}
	ast, err := parser.ParseString("", string(runes[first:last+1]))
	if err != nil {
		return nil, p.syntaxError(err)
	}
	return p.build(ast)
}

// MustParse is like Parse but panics on error. It is for formulas written in code.
func MustParse(s string) *Formula {
	f, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return f
}

type parse struct {
	input       string
	runes       []rune
	first, last int // rune indices of the non-blank part
}

func (p *parse) errAt(i int, format string, args ...any) *Error {
	return &Error{Formula: p.input, Col: i + 1, Msg: fmt.Sprintf(format, args...)}
}

func isMinus(r rune) bool { return r == '-' || r == '−' || r == '–' }

// checkChars rejects, with a specific message, every character the grammar has no use for,
// and a deficiency suffix that is not at the end.
func (p *parse) checkChars() error {
	for i := p.first; i <= p.last; i++ {
		r := p.runes[i]
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9',
			r == '.', r == '(', r == ')', r == '[', r == ']':
		case isMinus(r):
			if i+1 <= p.last && (p.runes[i+1] == 'd' || p.runes[i+1] == 'δ') && i+1 != p.last {
				return p.errAt(i, "the oxygen-deficiency suffix %q must end the formula, as in \"O12-d\"", string(p.runes[i:i+2]))
			}
		case r == 'δ':
			if i == p.first || !isMinus(p.runes[i-1]) {
				return p.errAt(i, "\"δ\" may only appear in the oxygen-deficiency suffix at the end, as in \"O12-δ\"")
			}
		case unicode.IsSpace(r):
			return p.errAt(i, "white space inside a formula; write %q", removeSpace(string(p.runes[p.first:p.last+1])))
		case r == '·' || r == '•' || r == '∙' || r == '*':
			return p.errAt(i, "hydrate or adduct notation (%s) is not supported; give the formula without it", quoteRune(r))
		case r == '+':
			return p.errAt(i, "\"+\" is not part of a formula: write neutral formulas without charges (oxygen excess \"O12+δ\" is not supported)")
		case r == ',':
			return p.errAt(i, "decimal comma; write amounts with a decimal point, as in \"1.5\"")
		default:
			return p.errAt(i, "unexpected character %s", quoteRune(r))
		}
	}
	return nil
}

func removeSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// checkBrackets reports unbalanced or mismatched brackets where they are, which the
// parser alone could only report as an unexpected token, and limits the nesting depth.
func (p *parse) checkBrackets() error {
	var stack []int // rune indices of open brackets
	for i := p.first; i <= p.last; i++ {
		switch r := p.runes[i]; r {
		case '(', '[':
			stack = append(stack, i)
			if len(stack) > MaxDepth {
				return p.errAt(i, "groups nested more than %d deep", MaxDepth)
			}
		case ')', ']':
			if len(stack) == 0 {
				return p.errAt(i, "%q closes no group", string(r))
			}
			open := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if want := closing(p.runes[open]); r != want {
				return p.errAt(i, "%q at column %d is closed by %q; use %q", string(p.runes[open]), open+1, string(r), string(want))
			}
		}
	}
	if len(stack) > 0 {
		open := stack[len(stack)-1]
		return p.errAt(open, "%q is never closed", string(p.runes[open]))
	}
	return nil
}

func closing(r rune) rune {
	if r == '(' {
		return ')'
	}
	return ']'
}

// syntaxError turns a participle error into an *Error that says what to write.
func (p *parse) syntaxError(err error) *Error {
	var ute *participle.UnexpectedTokenError
	var perr participle.Error
	if !errors.As(err, &ute) {
		if errors.As(err, &perr) {
			return p.errAt(p.first+perr.Position().Column-1, "%s", perr.Message())
		}
		return &Error{Formula: p.input, Msg: err.Error()}
	}
	tok := ute.Unexpected
	if tok.EOF() {
		return p.errAt(p.last+1, "the formula ends too early")
	}
	i := p.first + tok.Pos.Column - 1
	switch tok.Type {
	case tokLower:
		e := p.errAt(i, "element symbols start with a capital letter: %q", tok.Value)
		if c := caseFoldSymbol(tok.Value); c != "" {
			e.Suggestions = []string{c}
		}
		return e
	case tokNumber:
		if i == p.first {
			return p.errAt(i, "a formula cannot start with an amount (%q); amounts follow an element symbol or a closing bracket", tok.Value)
		}
		return p.errAt(i, "amount %q follows no element symbol or closing bracket", tok.Value)
	case tokPunct:
		if tok.Value == ")" || tok.Value == "]" {
			return p.errAt(i, "empty group")
		}
	case tokMinus:
		if i+1 <= p.last && p.runes[i+1] >= 'a' && p.runes[i+1] <= 'z' {
			j := i + 1
			for j <= p.last && p.runes[j] >= 'a' && p.runes[j] <= 'z' {
				j++
			}
			return p.errAt(i, "variables and arithmetic are not supported (%q); substitute the value", string(p.runes[i:j]))
		}
		return p.errAt(i, "a minus sign may only start the oxygen-deficiency suffix at the end, as in \"O12-d\"")
	case tokDefic:
		return p.errAt(i, "the oxygen-deficiency suffix %q must follow the oxygen amount, as in \"O12-d\"", tok.Value)
	}
	return p.errAt(i, "unexpected %q", tok.Value)
}

var amountPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// amount reads an amount literal exactly.
func (p *parse) amount(a *astAmount) (*big.Rat, error) {
	one := big.NewRat(1, 1)
	if a == nil {
		return one, nil
	}
	i := p.first + a.Pos.Column - 1
	t := a.Text
	switch {
	case strings.HasPrefix(t, ".") && amountPattern.MatchString("0"+t):
		return nil, p.errAt(i, "amount %q starts with a decimal point; write \"0%s\"", t, t)
	case strings.HasSuffix(t, ".") && amountPattern.MatchString(strings.TrimSuffix(t, ".")):
		return nil, p.errAt(i, "amount %q ends with a decimal point; write %q", t, strings.TrimSuffix(t, "."))
	case !amountPattern.MatchString(t):
		return nil, p.errAt(i, "malformed amount %q; write a decimal number such as \"1.5\"", t)
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok {
		return nil, p.errAt(i, "malformed amount %q", t)
	}
	if r.Sign() == 0 {
		return nil, p.errAt(i, "amount %q is zero; leave the element or group out instead", t)
	}
	return r, nil
}

type builder struct {
	*parse
	order []string
	exact map[string]*big.Rat
	col   map[string]int
	occ   []Occurrence
	occQ  []*big.Rat
}

func (p *parse) build(ast *astFormula) (*Formula, error) {
	b := &builder{parse: p, exact: map[string]*big.Rat{}, col: map[string]int{}}
	if err := b.terms(ast.Terms, big.NewRat(1, 1)); err != nil {
		return nil, err
	}
	f := &Formula{Input: p.input, exact: b.exact}
	if d := ast.Deficiency; d != nil {
		i := p.first + d.Pos.Column - 1
		lastTerm := ast.Terms[len(ast.Terms)-1]
		if lastTerm.Element == nil || lastTerm.Element.Symbol != "O" {
			return nil, p.errAt(i, "the oxygen-deficiency suffix %q must directly follow the oxygen amount, as in \"O12-d\"", d.Text)
		}
		f.OxygenDeficient = true
		f.DeficiencyCol = i + 1
	}
	for _, s := range b.order {
		v, err := p.float(b.exact[s], b.col[s], s)
		if err != nil {
			return nil, err
		}
		f.Components = append(f.Components, Component{Symbol: s, Amount: v, Col: b.col[s]})
	}
	for k, o := range b.occ {
		v, err := p.float(b.occQ[k], o.Col, o.Symbol)
		if err != nil {
			return nil, err
		}
		o.Amount = v
		f.Occurrences = append(f.Occurrences, o)
	}
	return f, nil
}

// float converts an exact amount, refusing values that float64 cannot hold.
func (p *parse) float(r *big.Rat, col int, sym string) (float64, error) {
	v, _ := r.Float64()
	switch {
	case v == 0:
		return 0, p.errAt(col-1, "the amount of %s is too small to represent", sym)
	case math.IsInf(v, 0):
		return 0, p.errAt(col-1, "the amount of %s is too large to represent", sym)
	}
	return v, nil
}

func (b *builder) terms(ts []*astTerm, mult *big.Rat) error {
	for _, t := range ts {
		switch {
		case t.Element != nil:
			e := t.Element
			i := b.first + e.Pos.Column - 1
			if err := b.checkSymbol(e.Symbol, i); err != nil {
				return err
			}
			a, err := b.amount(e.Amount)
			if err != nil {
				return err
			}
			q := new(big.Rat).Mul(a, mult)
			if _, seen := b.exact[e.Symbol]; !seen {
				b.order = append(b.order, e.Symbol)
				b.exact[e.Symbol] = new(big.Rat)
				b.col[e.Symbol] = i + 1
			}
			b.exact[e.Symbol].Add(b.exact[e.Symbol], q)
			b.occ = append(b.occ, Occurrence{Symbol: e.Symbol, Col: i + 1})
			b.occQ = append(b.occQ, q)
		case t.Group != nil:
			a, err := b.amount(t.Group.Amount)
			if err != nil {
				return err
			}
			if err := b.terms(t.Group.Terms, new(big.Rat).Mul(a, mult)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *builder) checkSymbol(sym string, i int) error {
	if elements.InTable(sym) {
		return nil
	}
	if elements.IsSymbol(sym) {
		return b.errAt(i, "element %s is not in the element table, which covers H to Rn (Z ≤ %d)", sym, elements.MaxZ())
	}
	e := b.errAt(i, "unknown element symbol %q", sym)
	e.Suggestions = suggestSymbols(sym, letterRun(b.runes, i))
	return e
}

// Amount returns the amount of the element, and false when the formula does not contain it.
func (f *Formula) Amount(symbol string) (float64, bool) {
	for _, c := range f.Components {
		if c.Symbol == symbol {
			return c.Amount, true
		}
	}
	return 0, false
}

// Elements returns the element symbols in order of first appearance.
func (f *Formula) Elements() []string {
	out := make([]string, len(f.Components))
	for i, c := range f.Components {
		out[i] = c.Symbol
	}
	return out
}

// Canonical returns the formula written flat, elements in order of first appearance with
// exact amounts (amounts of 1 omitted); for an oxygen-deficient formula O is written last,
// followed by "-d". Parse(f.Canonical()) has the same composition, flag and canonical
// string as f.
func (f *Formula) Canonical() string {
	order := f.Elements()
	if f.OxygenDeficient {
		order = slices.DeleteFunc(order, func(s string) bool { return s == "O" })
		order = append(order, "O")
	}
	s := f.write(order)
	if f.OxygenDeficient {
		s += "-d"
	}
	return s
}

// Hill returns the composition in Hill order: C first and H second when the formula
// contains carbon, all other elements alphabetically. It identifies a composition whatever
// its spelling ("Sc2(WO4)3" and "Sc2W3O12" both give "O12Sc2W3"). It does not show the
// oxygen-deficiency flag.
func (f *Formula) Hill() string {
	order := f.Elements()
	_, hasC := f.exact["C"]
	rank := func(s string) int {
		if hasC && s == "C" {
			return 0
		}
		if hasC && s == "H" {
			return 1
		}
		return 2
	}
	slices.SortFunc(order, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return f.write(order)
}

func (f *Formula) write(order []string) string {
	var b strings.Builder
	for _, s := range order {
		b.WriteString(s)
		if q := f.exact[s]; q.Cmp(big.NewRat(1, 1)) != 0 {
			b.WriteString(decimal(q))
		}
	}
	return b.String()
}

// decimal writes a positive terminating decimal exactly, without trailing zeros.
// Every amount is built from decimal literals by sums and products, so its denominator is
// 2^a·5^b and max(a, b) fractional digits represent it exactly.
func decimal(q *big.Rat) string {
	d := new(big.Int).Set(q.Denom())
	two, five := big.NewInt(2), big.NewInt(5)
	var a, b int
	m := new(big.Int)
	for m.Mod(d, two).Sign() == 0 {
		d.Quo(d, two)
		a++
	}
	for m.Mod(d, five).Sign() == 0 {
		d.Quo(d, five)
		b++
	}
	if d.Cmp(big.NewInt(1)) != 0 {
		panic("formula: amount is not a terminating decimal: " + q.String())
	}
	s := q.FloatString(max(a, b))
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// Composition returns the formula as a materials.Composition, the input of site
// assignment and descriptors. Its Formula field is the input without surrounding blanks.
func (f *Formula) Composition() materials.Composition {
	c := materials.Composition{
		Formula:         strings.TrimSpace(f.Input),
		Canonical:       f.Canonical(),
		OxygenDeficient: f.OxygenDeficient,
	}
	for _, x := range f.Components {
		c.Components = append(c.Components, materials.Component{Symbol: x.Symbol, Amount: x.Amount})
	}
	return c
}

// ParseComposition parses s and returns its composition, with source (for example
// "nte.csv row 12") recorded both in the composition, so that later messages about the
// compound name the row, and in the *Error if s cannot be read.
func ParseComposition(s, source string) (materials.Composition, error) {
	f, err := Parse(s)
	if err != nil {
		err.(*Error).Source = source
		return materials.Composition{}, err
	}
	c := f.Composition()
	c.Source = source
	return c, nil
}
