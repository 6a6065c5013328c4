// The explorer page: GraphiQL with the explorer plugin, HTTP for queries and mutations and
// graphql-ws (graphql-transport-ws) for subscriptions, all signed with the token entered above.
(function () {
  "use strict";

  var STORAGE_KEY = "vdc-graph-token";
  var httpUrl = window.location.origin + "/graphql";
  var wsUrl = httpUrl.replace(/^http/, "ws");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  var explorer = GraphiQLPluginExplorer.explorerPlugin();
  var wsClient = null;

  function token() {
    return window.localStorage.getItem(STORAGE_KEY) || "";
  }

  function render() {
    if (wsClient) {
      wsClient.dispose();
    }
    var authorization = token() ? "Bearer " + token() : "";
    wsClient = graphqlWs.createClient({
      url: wsUrl,
      lazy: true,
      connectionParams: function () {
        return { authorization: authorization };
      },
    });
    var fetcher = GraphiQL.createFetcher({
      url: httpUrl,
      headers: authorization ? { Authorization: authorization } : {},
      wsClient: wsClient,
    });
    document.getElementById("token-state").textContent = authorization
      ? "signed in with the token"
      : "no token: requests are refused until you paste one";
    root.render(
      React.createElement(GraphiQL, {
        fetcher: fetcher,
        plugins: [explorer],
        defaultEditorToolsVisibility: true,
        defaultQuery:
          "# Paste a token above, then run this with Ctrl-Enter.\n" +
          "{\n  viewer { user { email } provider { displayName } permissions }\n" +
          "  customers(first: 5) { totalCount nodes { displayName contractType } }\n}\n",
      })
    );
  }

  var input = document.getElementById("token");
  input.value = token();
  document.getElementById("token-bar").addEventListener("submit", function (event) {
    event.preventDefault();
    window.localStorage.setItem(STORAGE_KEY, input.value.trim().replace(/^Bearer\s+/i, ""));
    render();
  });
  render();
})();
