from scsim.cli import main

main()
