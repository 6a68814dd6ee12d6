"""Error codes of the queries (domain ``query``, E400-E409)."""

from skiffeval.diagnostics import define_code

D = "query"
NOT_A_DEPENDENCY = define_code("E400", "not-a-dependency", D, "why-depends: the target does not depend on the dependency")
NOT_BUILT = define_code("E401", "not-built", D, "a query about the outputs of a derivation that is not built")
UNKNOWN_DEPENDENCY = define_code("E402", "unknown-dependency", D, "a DEPENDENCY that names nothing in the target's closure")
GRAPHVIZ_FAILED = define_code("E403", "graphviz-failed", D, "Graphviz 'dot' is missing or failed to draw the graph")
