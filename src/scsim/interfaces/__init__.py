"""How people use scsim: the command line (`scsim ...`) and the Python API (`scsim.run`)."""
