"""The local stack behind `cutscenes local up`: emulators, functions, demo page.

See stack.py (LocalStack, the CLI modes), procs.py (spawning and stopping by PID)
and pubsub_setup.py (topics and subscriptions on the emulator).
"""
