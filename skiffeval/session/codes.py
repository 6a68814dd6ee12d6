"""Error and warning codes of the session: derivations made by the language, layers and
systems (domain ``layers``, E150-E199 and W150-W199)."""

from skiffeval.diagnostics import define_code

D = "layers"
BAD_DERIVATION = define_code("E150", "bad-derivation", D, "a 'derivation' call with a missing or invalid attribute")
UNKNOWN_INPUT = define_code("E151", "unknown-input", D, "a string that refers to a derivation this evaluation did not make")
BAD_LAYER = define_code("E152", "bad-layer", D, "a layer with an unknown field or a field of the wrong type")
BAD_LAYER_NAME = define_code("E153", "bad-layer-name", D, "a layer name not of the form 'category/name'")
LAYER_CYCLE = define_code("E154", "layer-cycle", D, "layers that depend on each other")
PATH_ESCAPE = define_code("E155", "path-escape", D, "a path that leaves its layer's tree, or a symlink pointing outside it")
BAD_SYSTEM = define_code("E156", "bad-system", D, "a system with a missing or invalid attribute")
BAD_FRAGMENT = define_code("E157", "bad-fragment", D, "a fragment item that is not a file, an attribute set or text")
FETCH_FAILED = define_code("E158", "fetch-failed", D, "a download that failed or cannot happen offline")
BAD_OVERRIDE = define_code("E159", "bad-override", D, "an --override-input that names no input or a missing path")
NOT_BUILDABLE = define_code("E160", "not-buildable", D, "a value that is not a derivation (or a set or list of them)")
BAD_EXTERNAL = define_code("E161", "bad-external", D, "a BR2_EXTERNAL tree that is incomplete or clashes with another")
BAD_FILES = define_code("E162", "bad-files", D, "a 'files' entry with an invalid name or content")
NO_BUILDROOT = define_code("E163", "no-buildroot", D, "an attribute that needs the system's Buildroot source")
BAD_COMMAND = define_code("E164", "bad-command", D, "a layer command that does not exist or cannot run")

OVERRIDE_DIFFERS = define_code("W150", "override-differs", D, "an overridden input whose content differs from its pin")
SET_TWICE = define_code("W151", "set-twice", D, "a symbol or file set by more than one layer")
BUILD_DIR_ELSEWHERE = define_code("W152", "build-dir-elsewhere", D,
                                  "the kept build directory holds another configuration's build than the image a command runs on")
LAYER_SHADOWED = define_code("W153", "layer-shadowed", D,
                             "a layer not applied because a layer of the same name defined elsewhere came first")
