"""skiffeval's own library of layers and boards, shipped as skiffeval._layers (the default <layers/...> search path)."""
