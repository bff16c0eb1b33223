# Sourced (not run) by tests/run.sh and by anyone running the tests by hand
# after tests/setup.sh:  . tests/node-env.sh
#
# Puts the Node 22 that tests/setup.sh installed first on PATH (the
# conformance suite needs Node >= 22; the system Node may be older) and
# exports where the integration tests find their peers:
#   CODEX_TEST_NODE               the node executable to run them with
#   CODEX_TEST_SERVER_EVERYTHING  @modelcontextprotocol/server-everything's dist/index.js
#   CODEX_TEST_CONFORMANCE        @modelcontextprotocol/conformance's dist/index.js
# Changes nothing else in the calling shell (no `set` options, no exit).

__codex_tests_dir=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)
if [ -x "$__codex_tests_dir/node_modules/node/bin/node" ]; then
    case ":$PATH:" in
        *":$__codex_tests_dir/node_modules/node/bin:"*) ;;
        *) PATH="$__codex_tests_dir/node_modules/node/bin:$PATH" ;;
    esac
    export PATH
    CODEX_TEST_NODE="$__codex_tests_dir/node_modules/node/bin/node"
else
    CODEX_TEST_NODE=$(command -v node || printf 'node')
fi
export CODEX_TEST_NODE
export CODEX_TEST_SERVER_EVERYTHING="$__codex_tests_dir/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
export CODEX_TEST_CONFORMANCE="$__codex_tests_dir/node_modules/@modelcontextprotocol/conformance/dist/index.js"
unset __codex_tests_dir
