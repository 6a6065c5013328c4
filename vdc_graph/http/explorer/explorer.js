// The explorer page: GraphiQL with the explorer plugin, HTTP for queries and mutations and
// graphql-ws (graphql-transport-ws) for subscriptions. Every operation is signed with the
// Authorization of GraphiQL's headers pane when it has one, else with the token entered above.
(function () {
  "use strict";

  var STORAGE_KEY = "vdc-graph-token";
  var FORBIDDEN = 4403; // the server's close code for a refused socket
  var httpUrl = window.location.origin + "/graphql";
  var wsUrl = httpUrl.replace(/^http/, "ws");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  var explorer = GraphiQLPluginExplorer.explorerPlugin();
  var state = document.getElementById("token-state");
  var current = null; // {authorization, wsClient, fetcher}: one socket per authorization

  function storedToken() {
    return window.localStorage.getItem(STORAGE_KEY) || "";
  }

  function barAuthorization() {
    return storedToken() ? "Bearer " + storedToken() : "";
  }

  // The headers pane's Authorization (any spelling of the name), else the bar's.
  function authorizationFor(headers) {
    var names = Object.keys(headers || {});
    for (var i = 0; i < names.length; i++) {
      if (names[i].toLowerCase() === "authorization" && headers[names[i]]) {
        return String(headers[names[i]]);
      }
    }
    return barAuthorization();
  }

  function showRefusal(event) {
    state.textContent =
      "subscription refused (" + event.code + "): " + (event.reason || "no reason given");
    state.className = "refused";
  }

  function fetcherFor(authorization) {
    if (current && current.authorization === authorization) {
      return current.fetcher;
    }
    if (current) {
      current.wsClient.dispose();
    }
    var wsClient = graphqlWs.createClient({
      url: wsUrl,
      lazy: true,
      connectionParams: function () {
        return { authorization: authorization };
      },
      // A refused token stays refused: report it at once instead of retrying for a minute.
      shouldRetry: function (event) {
        return !(event && event.code === FORBIDDEN);
      },
      on: {
        connected: function () {
          if (state.className === "refused") {
            state.textContent = "subscription connected";
            state.className = "";
          }
        },
        closed: function (event) {
          if (event && event.code === FORBIDDEN) {
            showRefusal(event);
          }
        },
      },
    });
    current = {
      authorization: authorization,
      wsClient: wsClient,
      fetcher: GraphiQL.createFetcher({
        url: httpUrl,
        headers: authorization ? { Authorization: authorization } : {},
        wsClient: wsClient,
      }),
    };
    return current.fetcher;
  }

  function fetcher(params, options) {
    return fetcherFor(authorizationFor(options && options.headers))(params, options);
  }

  function render() {
    state.className = "";
    state.textContent = storedToken()
      ? "signed in with the token"
      : "no token: requests are refused until you paste one here or in the headers pane";
    root.render(
      React.createElement(GraphiQL, {
        fetcher: fetcher,
        plugins: [explorer],
        defaultEditorToolsVisibility: true,
        defaultQuery:
          "# Paste a token above (or put Authorization in the headers pane), then run this\n" +
          "# with Ctrl-Enter.\n" +
          "{\n  viewer { user { email } provider { displayName } permissions }\n" +
          "  customers(first: 5) { totalCount nodes { displayName contractType } }\n}\n",
      })
    );
  }

  var input = document.getElementById("token");
  input.value = storedToken();
  document.getElementById("token-bar").addEventListener("submit", function (event) {
    event.preventDefault();
    window.localStorage.setItem(STORAGE_KEY, input.value.trim().replace(/^Bearer\s+/i, ""));
    render();
  });
  render();
})();
