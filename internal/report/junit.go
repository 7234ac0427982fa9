package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"
)

// JUnitSuite is one command's result as a JUnit test suite: a test case
// per device (or per probe), which is what CI systems show. plan, apply,
// verify and check all write through WriteJUnit, so their documents have
// one shape.
type JUnitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []JUnitCase `xml:"testcase"`
}

// JUnitCase is one test case; at most one of Failure, Error, Skipped.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *JUnitMessage `xml:"failure,omitempty"`
	Error     *JUnitMessage `xml:"error,omitempty"`
	Skipped   *JUnitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitMessage is a failure's, error's or skip's one-line message and text.
type JUnitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// NewJUnitSuite starts a suite that took elapsed.
func NewJUnitSuite(name string, elapsed time.Duration) JUnitSuite {
	return JUnitSuite{Name: name, Time: fmt.Sprintf("%.3f", elapsed.Seconds())}
}

// Add appends c, counting its failure, error or skip.
func (s *JUnitSuite) Add(c JUnitCase) {
	switch {
	case c.Failure != nil:
		s.Failures++
	case c.Error != nil:
		s.Errors++
	case c.Skipped != nil:
		s.Skipped++
	}
	s.Cases = append(s.Cases, c)
}

// WriteJUnit writes s as a JUnit XML document.
func WriteJUnit(w io.Writer, s JUnitSuite) error {
	s.Tests = len(s.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	doc := struct {
		XMLName xml.Name     `xml:"testsuites"`
		Suites  []JUnitSuite `xml:"testsuite"`
	}{Suites: []JUnitSuite{s}}
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
