from scsim.interfaces.cli import main

main()
