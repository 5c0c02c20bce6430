"""Example hook functions of the example project, named in the specs as `hooks.<module>:<fn>`."""
