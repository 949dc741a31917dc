from s6.cli import run

run()
