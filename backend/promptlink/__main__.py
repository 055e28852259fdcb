from promptlink.cli import main

main()
