"""The local stack behind `cutscenes local up`: emulators, functions, demo page.

See stack.py (LocalStack) and the modules it is made of: plan.py (parts, ports,
env), launch.py (each part's command line), readiness.py (waiting for the parts,
the bucket and topics), state.py (the state file), wipe.py and cli.py (the CLI
modes); procs.py (spawning and stopping by PID), pids.py (what a PID is now,
through psutil) and pubsub_setup.py (topics and subscriptions on the emulator).
"""
