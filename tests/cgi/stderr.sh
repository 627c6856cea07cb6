#!/bin/sh
# Writes to stderr (porch logs it as "cgi /path: line"), then answers.
echo "sh stderr first" >&2
echo "sh stderr second" >&2
printf 'Content-Type: text/plain\r\n\r\nok\n'
