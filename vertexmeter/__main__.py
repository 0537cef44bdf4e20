from vertexmeter.cli import run

run()
