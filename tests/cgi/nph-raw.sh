#!/bin/sh
# A non-parsed-header script: its output is the whole HTTP response.
printf 'HTTP/1.1 299 Raw Reason\r\nX-Nph: untouched\r\nContent-Type: text/plain\r\n\r\nnph body, exactly\n'
