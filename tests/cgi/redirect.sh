#!/bin/sh
# Location forms (RFC 3875 6.2.2-6.2.4), chosen by QUERY_STRING:
#   local	Location: $PATH_INFO alone (porch serves it as a GET)
#   abs		Location: http://example.com/elsewhere (302)
#   abs301	the same with Status: 301
#   local+body	a local Location with a type and body (a client redirect)
case $QUERY_STRING in
abs)
	printf 'Location: http://example.com/elsewhere\r\n\r\n'
	;;
abs301)
	printf 'Status: 301 Moved Permanently\r\nLocation: http://example.com/moved\r\n\r\n'
	;;
local+body)
	printf 'Location: %s\r\nContent-Type: text/plain\r\n\r\nsee %s\n' \
	    "$PATH_INFO" "$PATH_INFO"
	;;
*)
	printf 'Location: %s\r\n\r\n' "$PATH_INFO"
	;;
esac
