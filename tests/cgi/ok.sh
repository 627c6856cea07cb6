#!/bin/sh
# The trivial CGI: a type and "ok" (bench_cgi.sh; keep-alive tests).
printf 'Content-Type: text/plain\r\n\r\nok\n'
