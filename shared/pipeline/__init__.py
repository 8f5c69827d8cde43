"""Pipeline: the stages the functions run (render a still, animate it, finish a
clip, sweep), and the asset-lifecycle steps they share."""
