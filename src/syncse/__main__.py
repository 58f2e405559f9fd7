from syncse.cli import main

main()
