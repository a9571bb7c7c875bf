using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Reference.Gateway.Load;
using Reference.Gateway.Tests.Support;

namespace Reference.Gateway.Tests;

/// <summary>The API scaler's input and its lever: each cluster's load, and a destination taken out of rotation and put back.</summary>
public sealed class ClusterLoadTests : IAsyncLifetime
{
    private const string Key = "cluster-load-tests-admin-key-0123456789";
    private readonly FakeBackend _first = new("inventory-1");
    private readonly FakeBackend _second = new("inventory-2");
    private readonly FakeBackend _uploads = new("uploads-1");
    private GatewayHost _gateway = null!;

    [Fact]
    public void The_window_reports_p95_of_its_last_ten_seconds_only()
    {
        var window = new LatencyWindow();
        for (var i = 1; i <= 100; i++)
        {
            window.Record(1000, i * 10); // 10..1000 ms: p95 is 950
        }

        var (requests, p95) = window.Read(1005);
        Assert.Equal(100, requests);
        Assert.InRange(p95!.Value, 900, 1000);

        window.Record(1012, 3);
        Assert.Equal((1, 3.0), (window.Read(1012).Requests, Math.Ceiling(window.Read(1012).P95Milliseconds!.Value)));
        Assert.Equal((0, (double?)null), window.Read(1030));
    }

    [Fact]
    public async Task The_load_is_measured_per_cluster_and_only_the_admin_reads_it()
    {
        using var client = _gateway.CreateRealClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/gateway/load")).StatusCode);
        using (var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/gateway/load") { Headers = { { "X-Api-Key", Key + "x" } } })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(wrong)).StatusCode);
        }

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.GetAsync("/api/inventory/products?delayMs=150")));
        var slow = Enumerable.Range(0, 5).Select(_ => client.GetAsync("/api/inventory/products?delayMs=1500")).ToList();
        await Task.Delay(500);
        var inventory = (await ReadLoadAsync(client)).GetProperty("clusters").GetProperty("inventoryapi");
        await Task.WhenAll(slow);

        Assert.Equal(5, inventory.GetProperty("inFlight").GetInt32());
        Assert.Equal(20, inventory.GetProperty("requests").GetInt32());
        Assert.InRange(inventory.GetProperty("p95Milliseconds").GetDouble(), 150, 400);
        Assert.Equal(2, inventory.GetProperty("destinations").GetArrayLength());
        // An event stream is the client's length, not load: neither in flight nor in the latencies.
        var stream = client.GetAsync("/api/uploads/0b7c/events?pauseMs=400");
        await Task.Delay(300);
        var uploads = (await ReadLoadAsync(client)).GetProperty("clusters").GetProperty("uploadapi");
        Assert.Equal(0, uploads.GetProperty("inFlight").GetInt32());
        (await stream).EnsureSuccessStatusCode();
        var afterStream = (await ReadLoadAsync(client)).GetProperty("clusters").GetProperty("uploadapi");
        Assert.Equal(0, afterStream.GetProperty("requests").GetInt32());
        (await client.GetAsync("/api/uploads/0b7c/status")).EnsureSuccessStatusCode();
        Assert.Equal(1, (await ReadLoadAsync(client)).GetProperty("clusters").GetProperty("uploadapi").GetProperty("requests").GetInt32());
    }

    [Fact]
    public async Task A_destination_taken_out_gets_no_request_until_put_back()
    {
        using var client = _gateway.CreateRealClient();
        // Requests in flight on both when it is taken out: they finish, and finishing must not bring it back.
        var slow = Enumerable.Range(0, 6).Select(_ => client.GetAsync("/api/inventory/products?delayMs=500")).ToList();
        await Task.Delay(200);
        var out_ = await SendAsync(client, "/api/gateway/clusters/inventoryapi/out", new { address = _second.Url });
        Assert.Equal(HttpStatusCode.OK, out_.StatusCode);
        Assert.All(await Task.WhenAll(slow), r => Assert.True(r.IsSuccessStatusCode));
        var before = _second.ApiHits;
        for (var i = 0; i < 20; i++)
        {
            (await client.GetAsync("/api/inventory/products")).EnsureSuccessStatusCode();
        }

        Assert.Equal(before, _second.ApiHits);
        // It stays out although requests it finished would have set its passive health back to Healthy.
        Assert.True((await ReadLoadAsync(client)).GetProperty("clusters").GetProperty("inventoryapi").GetProperty("destinations")
            .EnumerateArray().Single(d => new Uri(d.GetProperty("address").GetString()!) == new Uri(_second.Url)).GetProperty("takenOut").GetBoolean());

        var back = await SendAsync(client, "/api/gateway/clusters/inventoryapi/in", new { address = _second.Url });
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        var view = await back.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("Healthy", "Healthy"), (view.GetProperty("activeHealth").GetString(), view.GetProperty("passiveHealth").GetString()));
        for (var i = 0; i < 20; i++)
        {
            (await client.GetAsync("/api/inventory/products")).EnsureSuccessStatusCode();
        }

        Assert.True(_second.ApiHits > before, "the destination put back got no request");

        // Bad input: ProblemDetails with the right 4xx.
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(client, "/api/gateway/clusters/nope/out", new { address = _second.Url })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(client, "/api/gateway/clusters/inventoryapi/out", new { address = "http://127.0.0.1:1" })).StatusCode);
        var bad = await SendAsync(client, "/api/gateway/clusters/inventoryapi/out", new { address = "not an address" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
    }

    private static async Task<JsonElement> ReadLoadAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/gateway/load") { Headers = { { "X-Api-Key", Key } } };
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string path, object body) =>
        client.SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Headers = { { "X-Api-Key", Key } }, Content = JsonContent.Create(body) });

    public async Task InitializeAsync()
    {
        await Task.WhenAll(_first.StartAsync(), _second.StartAsync(), _uploads.StartAsync());
        _gateway = new GatewayHost([_first, _second], [_uploads], new Dictionary<string, string?>
        {
            ["Auth:AdminKey"] = Key,
            ["Gateway:ApiRateLimit:PermitLimit"] = "100000",
        });
    }

    public async Task DisposeAsync()
    {
        _gateway.Dispose();
        await Task.WhenAll(_first.DisposeAsync().AsTask(), _second.DisposeAsync().AsTask(), _uploads.DisposeAsync().AsTask());
    }
}
