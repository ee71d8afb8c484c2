"""Pure domain: no I/O, no clock, stdlib only, nothing imported from the rest of aimo_cli."""
