#!/bin/sh
# The environment as sorted "NAME=value" lines (test_cgi.py: the
# SCRIPT_NAME / PATH_INFO split, e.g. /cgi-bin/env.sh/a/b).
printf 'Content-Type: text/plain\r\n\r\n'
env | sort
