package netconflab

import (
	"errors"

	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/enforce"
)

const openconfigFilter = ``

func openconfigState(string, testbed.RouterSpec) (enforce.State, error) {
	return enforce.State{}, errors.New("openconfig: not yet")
}
