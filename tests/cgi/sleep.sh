#!/bin/sh
# Silent for ${QUERY_STRING:-30} seconds (cgi_timeout: porch kills the
# script and its sleep, they share a process group).
sleep "${QUERY_STRING:-30}"
printf 'Content-Type: text/plain\r\n\r\nslept\n'
