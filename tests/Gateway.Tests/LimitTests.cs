using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Reference.Contracts;
using Reference.Gateway.Tests.Support;
using Yarp.ReverseProxy;

namespace Reference.Gateway.Tests;

public sealed class LimitTests(BackendFixture backends) : IClassFixture<BackendFixture>
{
    private const int OneMegabyte = 1024 * 1024;

    [Fact]
    public void Body_limits_are_the_file_limit_plus_the_form_for_new_uploads_and_1_MB_for_other_api_routes()
    {
        using var gateway = new GatewayHost([backends.Inventory], [backends.Uploads]);
        var routes = gateway.Services.GetRequiredService<IProxyStateLookup>().GetRoutes()
            .ToDictionary(r => r.Config.RouteId, r => r.Config.MaxRequestBodySize);

        Assert.Equal(25 * OneMegabyte + ImageLimits.FormOverheadBytes, routes["upload-create"]);
        Assert.All(routes.Where(r => r.Key != "upload-create"), r => Assert.Equal(OneMegabyte, r.Value));
    }

    [Fact]
    public async Task A_body_over_the_route_limit_gets_413_problem_details_and_never_reaches_the_backend()
    {
        await using var inventory = new FakeBackend("inventory-limits");
        await inventory.StartAsync();
        using var gateway = new GatewayHost([inventory], [backends.Uploads], new Dictionary<string, string?>
        {
            // A small upload limit keeps the test quick; the production value is checked above.
            ["ReverseProxy:Routes:upload-create:MaxRequestBodySize"] = (2 * OneMegabyte).ToString(),
        });
        using var client = gateway.CreateRealClient();

        using var tooBigForInventory = await client.SendAsync(Post("/api/inventory/products", OneMegabyte + 1));
        using var fineForUploads = await client.SendAsync(Post("/api/uploads", OneMegabyte + 1));
        using var tooBigForUploads = await client.SendAsync(Post("/api/uploads", 2 * OneMegabyte + 1));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBigForInventory.StatusCode);
        Assert.Equal("application/problem+json", tooBigForInventory.Content.Headers.ContentType!.MediaType);
        Assert.Equal(0, inventory.ApiHits);
        Assert.Equal(HttpStatusCode.OK, fineForUploads.StatusCode);
        Assert.Equal(OneMegabyte + 1, (await fineForUploads.Content.ReadFromJsonAsync<EchoResponse>())!.BodyBytes);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBigForUploads.StatusCode);
    }

    [Fact]
    public async Task A_chunked_body_that_grows_past_the_limit_gets_413()
    {
        using var gateway = new GatewayHost([backends.Inventory], [backends.Uploads]);
        using var client = gateway.CreateRealClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/inventory/products")
        {
            // No length: the gateway only learns the size while streaming.
            Content = new StreamContent(new UnknownLengthStream(2 * OneMegabyte)),
        };

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Too_many_requests_from_one_address_get_429_with_retry_after_and_uploads_run_out_first()
    {
        using var gateway = new GatewayHost([backends.Inventory], [backends.Uploads], new Dictionary<string, string?>
        {
            ["Gateway:ApiRateLimit:PermitLimit"] = "5",
            ["Gateway:ApiRateLimit:Window"] = "00:01:00",
            ["Gateway:UploadRateLimit:PermitLimit"] = "2",
            ["Gateway:UploadRateLimit:Window"] = "00:01:00",
        });
        using var client = gateway.CreateRealClient();

        var uploads = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.SendAsync(Post("/api/uploads", 10));
            uploads.Add(response.StatusCode);
        }

        var reads = new List<HttpResponseMessage>();
        for (var i = 0; i < 6; i++)
        {
            reads.Add(await client.GetAsync("/api/inventory/products"));
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], uploads);
        Assert.All(reads.Take(5), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var rejected = reads[5];
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal("application/problem+json", rejected.Content.Headers.ContentType!.MediaType);
        var retryAfter = rejected.Headers.RetryAfter!.Delta!.Value;
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        reads.ForEach(r => r.Dispose());
    }

    [Fact]
    public async Task A_slow_backend_gets_504_problem_details_after_the_api_timeout_while_uploads_may_take_longer()
    {
        using var gateway = new GatewayHost([backends.Inventory], [backends.Uploads], new Dictionary<string, string?>
        {
            ["Gateway:ApiTimeout"] = "00:00:01",
            ["Gateway:UploadTimeout"] = "00:00:10",
        });
        using var client = gateway.CreateRealClient();

        using var slowRead = await client.GetAsync("/api/inventory/products?delayMs=3000");
        using var slowUpload = await client.SendAsync(Post("/api/uploads?delayMs=3000", 10));

        Assert.Equal(HttpStatusCode.GatewayTimeout, slowRead.StatusCode);
        Assert.Equal("application/problem+json", slowRead.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.OK, slowUpload.StatusCode);
    }

    [Fact]
    public async Task A_client_that_never_finishes_its_headers_is_disconnected()
    {
        using var gateway = new GatewayHost([backends.Inventory], [backends.Uploads], new Dictionary<string, string?>
        {
            ["Gateway:RequestHeadersTimeout"] = "00:00:01",
        });
        using var socket = await ConnectAsync(gateway);
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET /api/inventory/products HTTP/1.1\r\nHost: localhost\r\nX-Slow: "));

        var answer = await ReadUntilClosedAsync(socket, TimeSpan.FromSeconds(15));

        Assert.True(answer.Closed, "the gateway kept the half-sent request open");
        Assert.True(answer.Text.Length == 0 || answer.Text.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), answer.Text);
    }

    [Fact]
    public async Task A_client_that_trickles_its_body_is_cut_off_before_the_backend_gets_it()
    {
        await using var inventory = new FakeBackend("inventory-slow-body");
        await inventory.StartAsync();
        using var gateway = new GatewayHost([inventory], [backends.Uploads], new Dictionary<string, string?>
        {
            ["Gateway:MinRequestBodyBytesPerSecond"] = "1000",
            ["Gateway:MinRequestBodyGracePeriod"] = "00:00:02",
        });
        using var socket = await ConnectAsync(gateway);
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            "POST /api/inventory/products HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"));

        using var trickle = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var trickling = Task.Run(async () =>
        {
            // About 10 bytes a second, far below the 1000 B/s minimum.
            while (!trickle.IsCancellationRequested)
            {
                try
                {
                    await socket.SendAsync(new byte[] { (byte)' ' }, trickle.Token);
                    await Task.Delay(100, trickle.Token);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    return;
                }
            }
        });
        var answer = await ReadUntilClosedAsync(socket, TimeSpan.FromSeconds(20));
        await trickle.CancelAsync();
        await trickling;

        Assert.True(answer.Closed || answer.Text.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), answer.Text);
        Assert.StartsWith("HTTP/1.1 408", answer.Text);
        Assert.DoesNotContain("\"bodyBytes\":100000", answer.Text);
    }

    private static HttpRequestMessage Post(string path, int bytes)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(new byte[bytes]) };
        // The gateway answers 413 before asking for the body, as a browser upload would see it.
        request.Headers.ExpectContinue = true;
        return request;
    }

    private static async Task<Socket> ConnectAsync(GatewayHost gateway)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, gateway.BaseAddress.Port);
        return socket;
    }

    private static async Task<(bool Closed, string Text)> ReadUntilClosedAsync(Socket socket, TimeSpan limit)
    {
        using var deadline = new CancellationTokenSource(limit);
        var received = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                if (read == 0)
                {
                    return (true, received.ToString());
                }

                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (SocketException)
        {
            return (true, received.ToString()); // reset by the server counts as closed
        }
        catch (OperationCanceledException)
        {
            return (false, received.ToString());
        }
    }

    /// <summary>Zeros of a given total that HttpClient cannot measure up front, so it sends them chunked.</summary>
    private sealed class UnknownLengthStream(long total) : Stream
    {
        private long _sent;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _sent; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, total - _sent);
            Array.Clear(buffer, offset, n);
            _sent += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
