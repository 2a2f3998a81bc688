#!/bin/sh
# Every way a command can fail, chosen by the first argument. stdin is never read.
case "$1" in
  exit-1)
    echo "queue orders not found on rabbitmq.example:5672" >&2
    echo "second line that is not shown" >&2
    exit 1 ;;
  control-chars)
    printf 'bad\033[31m red \001 text\n' >&2
    exit 2 ;;
  ignore-term)
    # The shell and a child both ignore SIGTERM; both pids go to $RECORD_FILE first.
    trap '' TERM
    sh -c 'trap "" TERM; echo $$ >> "$RECORD_FILE"; exec sleep 60' &
    echo $$ >> "$RECORD_FILE"
    sleep 60 ;;
  huge)
    exec yes 1111111111111111111111111111111111111111111111111111111111111111111111111 ;;
  garbage)
    echo '<html><body>502 Bad Gateway</body></html>' ;;
  close-stdout)
    exec 1>&-
    sleep 0.3
    exit 0 ;;
  never-read)
    echo 5 ;;
  killed)
    kill -KILL $$ ;;
  *)
    echo "unknown case $1" >&2
    exit 64 ;;
esac
