from vertexmeter.cli import main

main(prog_name="vertexmeter")
