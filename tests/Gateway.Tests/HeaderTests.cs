using System.Net;
using System.Net.Http.Json;
using Reference.Gateway.Tests.Support;

namespace Reference.Gateway.Tests;

public sealed class HeaderTests(BackendFixture backends) : IClassFixture<BackendFixture>, IDisposable
{
    private readonly GatewayHost _gateway = new([backends.Inventory], [backends.Uploads]);

    public void Dispose() => _gateway.Dispose();

    [Fact]
    public async Task Forwarded_headers_sent_by_the_client_are_replaced_by_the_real_connection()
    {
        using var client = _gateway.CreateRealClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/products");
        request.Headers.Add("X-Forwarded-For", "6.6.6.6");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "evil.example");
        request.Headers.Add("Forwarded", "for=6.6.6.6;proto=https");

        using var response = await client.SendAsync(request);
        var echo = await response.Content.ReadFromJsonAsync<EchoResponse>();

        Assert.Equal("127.0.0.1", echo!.Headers["X-Forwarded-For"]);
        Assert.Equal("http", echo.Headers["X-Forwarded-Proto"]);
        Assert.Equal(_gateway.BaseAddress.Authority, echo.Headers["X-Forwarded-Host"]);
        Assert.False(echo.Headers.ContainsKey("Forwarded"));
    }

    [Theory]
    [InlineData("/api/inventory/products")]
    [InlineData("/")]
    public async Task Responses_carry_security_headers_and_no_server_header(string path)
    {
        using var client = _gateway.CreateRealClient();

        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.True(response.Headers.Contains("Referrer-Policy"));
        // The echo backend sends "Server: Kestrel"; the gateway must not pass it on.
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task Json_is_compressed_but_images_are_not()
    {
        using var client = _gateway.CreateRealClient();

        using var json = await client.SendAsync(WithAcceptEncoding("/api/inventory/products"));
        using var image = await client.SendAsync(WithAcceptEncoding("/api/inventory/image.png"));

        Assert.Contains(json.Content.Headers.ContentEncoding, e => e is "br" or "gzip");
        Assert.Empty(image.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task Server_sent_events_stream_event_by_event_uncompressed_past_the_api_timeout()
    {
        await using var events = new FakeBackend("uploads-sse");
        await events.StartAsync();
        using var gateway = new GatewayHost([backends.Inventory], [events], new Dictionary<string, string?>
        {
            ["Gateway:ApiTimeout"] = "00:00:01",
        });
        using var client = gateway.CreateRealClient();
        using var request = WithAcceptEncoding("/api/uploads/42/events?pauseMs=1500");

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var lines = new List<string>();
        var firstEventWhileStreamOpen = false;
        while (await reader.ReadLineAsync() is { } line)
        {
            lines.Add(line);
            if (line.Contains("Pending"))
            {
                // Seen before the backend has written the rest: nothing buffered the stream.
                firstEventWhileStreamOpen = !events.FinishedStreams.ContainsKey("42");
            }
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.True(firstEventWhileStreamOpen);
        // Pauses of 1.5 s each: 3 s in all, longer than the 1 s API timeout.
        Assert.Equal(3, lines.Count(l => l.StartsWith("data:", StringComparison.Ordinal)));
    }

    private static HttpRequestMessage WithAcceptEncoding(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Accept-Encoding", "br, gzip");
        return request;
    }
}
