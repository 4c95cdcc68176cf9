package expression

import (
	"sync"

	"github.com/expr-lang/expr/vm"
)

// vms reuses expr-lang's virtual machines: expr.Run makes one, with its
// stack, for every evaluation, and a pipeline evaluates a few expressions
// per record. A VM resets its stack, scopes and memory count at the start
// of each Run, so a reused one runs exactly like a new one.
var vms = sync.Pool{New: func() any { return new(vm.VM) }}

// run evaluates prog against env on a pooled VM.
func run(prog *vm.Program, env any) (any, error) {
	m := vms.Get().(*vm.VM)
	out, err := m.Run(prog, env)
	vms.Put(m)
	return out, err
}
