"""An OpenStack-style cmd module: main() and no __main__ block."""

import sys

import patchguard


def main():
    print("MAIN RAN", patchguard.state().mode, sys.argv[1:])
    return 3


def other():
    print("OTHER RAN", sys.argv[0])
