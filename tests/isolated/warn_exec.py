"""Bootstrap from exec'd code run in an imported module's namespace.

The finding is reported at the exec'd line; before the fix CPython looked
the line up in the module's own (shorter) source and raised IndexError
from warnings.warn_explicit.  Prints "survived" when the bootstrap
returned.
"""

import _emit

code = compile("\n" * 500 + "import patchguard.bootstrap\n", "<gen>", "exec")
exec(code, vars(_emit))  # noqa: S102 - the scenario under test
print("survived", flush=True)
