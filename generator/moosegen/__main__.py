from moosegen.cli import main

main()
