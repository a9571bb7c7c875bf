using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Reference.Reliability.Tests.Support;
using Reference.Tests.Storefront;
using Reference.Tests.Support;
using Xunit.Abstractions;

namespace Reference.Reliability.Tests;

/// <summary>
/// Hostile and malformed requests against every endpoint, through the gateway. Each one gets the
/// answer written next to it (a 4xx, or a 202 where accepting is the design and the pipeline then
/// decides), never a 5xx; no process dies; the workers stay inside their memory; and a good
/// request right after each one still succeeds.
/// </summary>
[Collection(OutageCollection.Name)]
public sealed class HostileInputTests(OutageStorefront storefront, ITestOutputHelper output)
{
    private const string GoodPhoto = "flow-720x1440-portrait.jpg";

    /// <param name="Then">For a 202: the state the upload must end in.</param>
    /// <param name="Bomb">A decoder bomb: its time to answer and the memory peaks are printed.</param>
    private sealed record Case(string Endpoint, string Name, int Expected, Func<Context, Task<int>> Send, string? Then = null, bool Bomb = false);

    /// <summary>Made once: packing 520 MB takes a second or two each.</summary>
    private static class Bombs
    {
        public static readonly Lazy<byte[]> ZTxt = new(() => HostileFiles.PngWithCompressedChunk("zTXt", 520L * 1024 * 1024));
        public static readonly Lazy<byte[]> ITxt = new(() => HostileFiles.PngWithCompressedChunk("iTXt", 520L * 1024 * 1024));
        public static readonly Lazy<byte[]> ICcp = new(() => HostileFiles.PngWithCompressedChunk("iCCP", 520L * 1024 * 1024));
    }

    private sealed record Context(HttpClient Http, Uri Gateway, Guid ProductId, Guid UploadId, List<Guid> Accepted);

    [Fact]
    public async Task Every_hostile_request_gets_its_4xx_and_no_process_dies_or_outgrows_its_memory()
    {
        await Faults.WaitUntilRunningAndHealthyAsync(storefront.App, storefront.Resources, TimeSpan.FromMinutes(2));
        var client = storefront.CreateClient();
        var product = await client.CreateProductAsync(category: "Hostile");
        var earlier = await client.UploadAcceptedAsync(Corpus.Path(GoodPhoto), product.Id);
        var context = new Context(client.Http, storefront.App.GetEndpoint("gateway", "http"), product.Id, earlier.Id, []);
        var processes = storefront.Resources.Where(HasProcess).ToDictionary(r => r, r => Faults.TryFindPid(storefront.App, r));

        var cases = Cases();
        var mismatches = new List<string>();
        var serverErrors = 0;
        var rejected = 0;
        var good = new List<Guid>();
        var acceptedBy = new List<(Case Case, Guid Id)>();
        var bombs = new List<string>();
        foreach (var @case in cases)
        {
            int status;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                status = await @case.Send(context);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or SocketException)
            {
                status = 0; // the connection ended without an answer
            }

            acceptedBy.AddRange(context.Accepted.Skip(acceptedBy.Count).Select(id => (@case, id)));
            serverErrors += status >= 500 ? 1 : 0;
            rejected += status is >= 400 and < 500 ? 1 : 0;
            var line = $"[hostile-input] {@case.Endpoint} {@case.Name}: {(status == 0 ? "no answer" : status.ToString())}";
            if (status != @case.Expected)
            {
                mismatches.Add($"{line}, expected {@case.Expected}");
            }

            Log(line);
            if (@case.Bomb)
            {
                bombs.Add($"{@case.Name}: {status} in {clock.Elapsed.TotalSeconds:0.0} s");
                if (clock.Elapsed > TimeSpan.FromSeconds(5))
                {
                    mismatches.Add($"{line}: answered after {clock.Elapsed.TotalSeconds:0.0} s");
                }
            }

            // A good request right after: the same endpoint family still works.
            if (@case.Endpoint.StartsWith("POST /api/uploads", StringComparison.Ordinal))
            {
                good.Add((await client.UploadAcceptedAsync(Corpus.Path(GoodPhoto))).Id);
            }
            else
            {
                using var read = await client.Http.GetAsync($"/api/inventory/products/{product.Id}");
                if (read.StatusCode != HttpStatusCode.OK)
                {
                    mismatches.Add($"{line}: the good request after it got {(int)read.StatusCode}");
                }
            }
        }

        // What the pipeline made of the hostile files it accepted.
        foreach (var (@case, id) in acceptedBy)
        {
            var finished = await client.WaitUntilFinishedAsync(id, TimeSpan.FromMinutes(2));
            Log($"[hostile-input] {@case.Name} ended {finished.Status}{(finished.Reason is null ? "" : $" ({finished.Reason})")}");
            if (@case.Then is not null && finished.Status != @case.Then)
            {
                mismatches.Add($"{@case.Name} ended {finished.Status}, expected {@case.Then}");
            }
        }

        var goodFinished = await Task.WhenAll(good.Select(id => client.WaitUntilFinishedAsync(id, TimeSpan.FromMinutes(2))));
        var crashes = processes.Count(p => Faults.TryFindPid(storefront.App, p.Key) != p.Value || !Faults.IsRunningAndHealthy(storefront.App, p.Key));
        var workerPeak = storefront.Services("imageworker")
            .Select(w => Faults.TryFindPid(storefront.App, w))
            .Where(pid => pid is not null)
            .Max(pid => Faults.PeakResidentBytes(pid!.Value));

        var uploadApiPeak = storefront.Services("uploadapi")
            .Select(w => Faults.TryFindPid(storefront.App, w))
            .Where(pid => pid is not null)
            .Max(pid => Faults.PeakResidentBytes(pid!.Value));
        foreach (var bomb in bombs)
        {
            Log($"bomb: {bomb}");
        }

        Log($"bomb: peak RSS since start: uploadapi {uploadApiPeak / (1024 * 1024)} MB, imageworker {workerPeak / (1024 * 1024)} MB " +
            $"(limits 512 MB each in compose)");
        Log($"hostile-input: {cases.Count} requests, {rejected} rejected with 4xx, {cases.Count - rejected - serverErrors} accepted by design, " +
            $"{serverErrors} server errors, {crashes} crashes, worker peak RSS {workerPeak / (1024 * 1024)} MB " +
            $"(limit {ReliabilityStorefront.WorkerMemoryLimitBytes / (1024 * 1024)} MB), {goodFinished.Count(u => u.Status == "Ready")}/{good.Count} good uploads ready");

        Assert.True(cases.Count >= 80, $"only {cases.Count} cases");
        Assert.Empty(mismatches);
        Assert.Equal(0, serverErrors);
        Assert.Equal(0, crashes);
        Assert.All(goodFinished, u => Assert.Equal("Ready", u.Status));
        Assert.InRange(workerPeak, 1, ReliabilityStorefront.WorkerMemoryLimitBytes);
        Assert.InRange(uploadApiPeak, 1, ReliabilityStorefront.WorkerMemoryLimitBytes);
    }

    private static List<Case> Cases()
    {
        var jpeg = HostileFiles.Jpeg;
        const string uploads = "POST /api/uploads";
        const string products = "POST /api/inventory/products";
        return
        [
            // Format confusion: the type comes from the bytes, never the name.
            new(uploads, "text named .jpg", 415, c => Upload(c, "just words"u8.ToArray(), "photo.jpg")),
            new(uploads, "HTML named .jpg", 415, c => Upload(c, "<!DOCTYPE html><html><script>alert(1)</script></html>"u8.ToArray(), "photo.jpg")),
            new(uploads, "SVG with a script", 415, c => Upload(c, "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"u8.ToArray(), "logo.svg")),
            new(uploads, "GIF (not accepted, animated or not)", 415, c => Upload(c, HostileFiles.Gif, "anim.gif")),
            new(uploads, "BMP named .png", 415, c => Upload(c, HostileFiles.Bmp, "photo.png")),
            new(uploads, "TIFF", 415, c => Upload(c, HostileFiles.Tiff, "scan.tiff")),
            new(uploads, "PDF named .jpg", 415, c => Upload(c, HostileFiles.Pdf, "photo.jpg")),
            // Truncated and corrupted: refused when the header tells, otherwise Failed by the worker.
            new(uploads, "PNG signature then noise", 422, c => Upload(c, HostileFiles.PngSignatureThenNoise(), "noise.png")),
            new(uploads, "JPEG cut before its frame header", 422, c => Upload(c, HostileFiles.Truncated(jpeg, HostileFiles.FrameHeaderOffset(jpeg)), "cut.jpg")),
            new(uploads, "JPEG cut in half", 202, c => Upload(c, HostileFiles.Truncated(jpeg, jpeg.Length / 2), "half.jpg"), Then: "Failed"),
            new(uploads, "JPEG with a corrupted middle", 202, c => Upload(c, HostileFiles.CorruptedMiddle(jpeg), "noisy.jpg"), Then: "Failed"),
            // Pixel floods and decompression bombs.
            new(uploads, "PNG header claiming 100000x100000", 422, c => Upload(c, HostileFiles.PngClaiming(100_000, 100_000), "flood.png")),
            new(uploads, "JPEG header claiming 65000x65000", 422, c => Upload(c, HostileFiles.JpegClaiming(65_000, 65_000), "flood.jpg")),
            // ImageSharp sizes a WebP by its bitstream (8x8 here), not the canvas VP8X declares, so nothing floods.
            new(uploads, "WebP header claiming a 16384x16384 canvas", 202, c => Upload(c, HostileFiles.WebpClaiming(16_384), "flood.webp"), Then: "Ready"),
            new(uploads, "PNG bomb 20000x20000 (real data, 400 MB unpacked)", 422, c => Upload(c, HostileFiles.PngBomb(20_000), "bomb.png")),
            new(uploads, "PNG bomb 7000x7000 inside the limits", 202, c => Upload(c, HostileFiles.PngBomb(7_000), "bomb.png"), Then: "Ready"),
            // Decoder bombs: small files that explode inside the decoder, refused from their structure before it runs.
            new(uploads, "PNG whose zTXt text inflates to 520 MB", 422, c => Upload(c, Bombs.ZTxt.Value, "text-bomb.png"), Bomb: true),
            new(uploads, "PNG whose iTXt (XMP) text inflates to 520 MB", 422, c => Upload(c, Bombs.ITxt.Value, "xmp-bomb.png"), Bomb: true),
            new(uploads, "PNG whose iCCP profile inflates to 520 MB", 422, c => Upload(c, Bombs.ICcp.Value, "icc-bomb.png"), Bomb: true),
            new(uploads, "PNG with 40 zTXt chunks of 1 MB each", 422, c => Upload(c, HostileFiles.PngWithCompressedChunk("zTXt", 1024 * 1024, copies: 40), "many.png"), Bomb: true),
            new(uploads, "JPEG with 5000 scans", 422, c => Upload(c, HostileFiles.JpegWithScans(5_000), "scans.jpg"), Bomb: true),
            new(uploads, "PNG with a 100 KB zTXt comment (ordinary)", 202, c => Upload(c, HostileFiles.PngWithCompressedChunk("zTXt", 100 * 1024), "caption.png"), Then: "Ready"),
            new(uploads, "PNG with an uncompressed iTXt title", 202, c => Upload(c, HostileFiles.PngWithPlainText(), "title.png"), Then: "Ready"),
            new(uploads, "JPEG with 150 scans (under the cap)", 202, c => Upload(c, HostileFiles.JpegWithScans(150), "scans.jpg"), Then: "Ready"),
            new(uploads, "progressive JPEG photo", 202, c => Upload(c, File.ReadAllBytes(Corpus.Path("autumn-2560x1600-progressive.jpg")), "autumn.jpg"), Then: "Ready"),
            // Animation (decided in docs/reliability.md): APNG is a PNG whose first frame becomes the
            // variants; ImageSharp 2.1 cannot read an animated WebP, so its header is refused.
            new(uploads, "animated PNG (APNG)", 202, c => Upload(c, HostileFiles.AnimatedPng(), "anim.png"), Then: "Ready"),
            new(uploads, "animated WebP", 422, c => Upload(c, HostileFiles.AnimatedWebp(), "anim.webp")),
            // The form itself.
            new(uploads, "empty file", 400, c => Upload(c, [], "empty.jpg")),
            new(uploads, "no file field", 400, c => Multipart(c, form => form.Add(new StringContent(c.ProductId.ToString()), "productId"))),
            new(uploads, "two file fields", 400, c => Multipart(c, form =>
            {
                form.Add(new ByteArrayContent(jpeg), "file", "a.jpg");
                form.Add(new ByteArrayContent(jpeg), "file", "b.jpg");
            })),
            new(uploads, "productId not a GUID", 400, c => Upload(c, jpeg, "a.jpg", productId: "'; DROP TABLE uploads; --")),
            new(uploads, "productId of 10 KB", 400, c => Upload(c, jpeg, "a.jpg", productId: new string('7', 10_000))),
            // Declared, then not sent: the answer must come before the body (HttpClient cannot read an early answer).
            new(uploads, "body over 25 MB", 413, c => RawHttp(c, $"POST /api/uploads HTTP/1.1\r\nHost: x\r\nX-Api-Key: {ReliabilityStorefront.AdminKey}\r\n" +
                $"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {26 * 1024 * 1024}\r\n\r\n")),
            new(uploads, "JSON body instead of a form", 415, c => Send(c, HttpMethod.Post, "/api/uploads", JsonContent.Create(new { file = "x" }), admin: true)),
            new(uploads, "multipart without a boundary", 400, c => Send(c, HttpMethod.Post, "/api/uploads", Raw("--x\r\n", "multipart/form-data"), admin: true)),
            new(uploads, "multipart not matching its boundary", 400, c => Send(c, HttpMethod.Post, "/api/uploads",
                Raw("--other\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\nxx\r\n--other--\r\n", "multipart/form-data; boundary=declared"), admin: true)),
            new(uploads, "no admin key", 401, c => Upload(c, jpeg, "a.jpg", adminKey: "")),
            new(uploads, "wrong admin key", 403, c => Upload(c, jpeg, "a.jpg", adminKey: "not-the-key")),
            new(uploads, "admin key with a different case", 403, c => Upload(c, jpeg, "a.jpg", adminKey: ReliabilityStorefront.AdminKey.ToUpperInvariant())),
            new(uploads, "Idempotency-Key replayed with another file", 422, async c =>
            {
                var key = "replay-" + Guid.NewGuid().ToString("N");
                var first = await Upload(c, File.ReadAllBytes(Corpus.Path(GoodPhoto)), "first.jpg", idempotencyKey: key);
                Assert.Equal(202, first);
                return await Upload(c, jpeg, "second.jpg", idempotencyKey: key);
            }),
            new(uploads, "Idempotency-Key replayed for another product", 422, async c =>
            {
                var key = "replay-" + Guid.NewGuid().ToString("N");
                var photo = File.ReadAllBytes(Corpus.Path(GoodPhoto));
                Assert.Equal(202, await Upload(c, photo, "first.jpg", idempotencyKey: key));
                return await Upload(c, photo, "first.jpg", productId: c.ProductId.ToString(), idempotencyKey: key);
            }),
            new(uploads, "Idempotency-Key of 10 KB", 400, c => Upload(c, jpeg, "a.jpg", idempotencyKey: new string('k', 10_000))),

            // HTTP itself, straight to the gateway's socket (HttpClient refuses to send these).
            new("any", "a 64 KB request header", 431, c => RawHttp(c, $"GET /api/inventory/categories HTTP/1.1\r\nHost: x\r\nX-Big: {new string('a', 64 * 1024)}\r\n\r\n")),
            new("any", "300 request headers", 431, c => RawHttp(c, "GET /api/inventory/categories HTTP/1.1\r\nHost: x\r\n" +
                string.Concat(Enumerable.Range(0, 300).Select(i => $"X-H{i}: {i}\r\n")) + "\r\n")),
            new("any", "a 20 KB URL", 414, c => RawHttp(c, $"GET /api/inventory/products?q={new string('q', 20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n")),
            new("any", "CR inside a header value (header injection)", 400, c => RawHttp(c,
                "GET /api/inventory/categories HTTP/1.1\r\nHost: x\r\nX-Api-Key: a\rSet-Cookie: admin=1\r\n\r\n")),
            new("any", "NUL inside a header value", 400, c => RawHttp(c, "GET /api/inventory/categories HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\0b\r\n\r\n")),
            new("any", "raw invalid UTF-8 bytes in the path", 400, c => RawHttp(c, "GET /api/inventory/products/by-sku/\u00ff\u00fe HTTP/1.1\r\nHost: x\r\n\r\n")),
            new("GET /api/inventory/products/by-sku/{sku}", "percent-encoded invalid UTF-8", 404, c => Get(c, "/api/inventory/products/by-sku/%FF%FE%C0%AF")),

            // JSON bodies.
            new(products, "2 MB of JSON", 413, c => RawHttp(c, $"POST /api/inventory/products HTTP/1.1\r\nHost: x\r\nX-Api-Key: {ReliabilityStorefront.AdminKey}\r\n" +
                $"Content-Type: application/json\r\nContent-Length: {2 * 1024 * 1024}\r\n\r\n{{\"name\":\"" + new string('n', 64 * 1024))),
            new(products, "JSON nested 10000 deep", 400, c => Send(c, HttpMethod.Post, "/api/inventory/products",
                Raw(new string('[', 10_000) + new string(']', 10_000), "application/json"), admin: true)),
            new(products, "invalid UTF-8 inside a JSON string", 400, c => Send(c, HttpMethod.Post, "/api/inventory/products",
                Bytes([.. "{\"sku\":\"BAD-1\",\"name\":\""u8.ToArray(), 0xC3, 0x28, 0xFF, .. "\",\"category\":\"x\",\"price\":1,\"currency\":\"EUR\",\"stock\":1}"u8.ToArray()], "application/json"), admin: true)),
            new(products, "price 1e300", 400, c => SendJson(c, HttpMethod.Post, "/api/inventory/products", ProductJson(price: "1e300"))),
            new(products, "negative price", 400, c => SendJson(c, HttpMethod.Post, "/api/inventory/products", ProductJson(price: "-5"))),
            new(products, "price as text", 400, c => SendJson(c, HttpMethod.Post, "/api/inventory/products", ProductJson(price: "\"free\""))),
            new(products, "stock 2^40", 400, c => SendJson(c, HttpMethod.Post, "/api/inventory/products", ProductJson(stock: "1099511627776"))),
            new(products, "no admin key", 401, c => Send(c, HttpMethod.Post, "/api/inventory/products", Raw(ProductJson(), "application/json"), admin: false)),
            new("DELETE /api/inventory/products/{id}", "wrong admin key", 403, c => Send(c, HttpMethod.Delete, $"/api/inventory/products/{c.ProductId}", null, admin: false, key: "wrong")),
            new("POST /api/inventory/products/{id}/stock", "delta int.MaxValue", 400, c => SendJson(c, HttpMethod.Post, $"/api/inventory/products/{c.ProductId}/stock", $"{{\"delta\":{int.MaxValue}}}")),
            new("POST /api/inventory/products/{id}/stock", "delta int.MinValue", 400, c => SendJson(c, HttpMethod.Post, $"/api/inventory/products/{c.ProductId}/stock", $"{{\"delta\":{int.MinValue}}}")),
            new("POST /api/inventory/products/{id}/stock", "delta 2^40", 400, c => SendJson(c, HttpMethod.Post, $"/api/inventory/products/{c.ProductId}/stock", "{\"delta\":1099511627776}")),
            new("GET /api/inventory/products", "page -1", 400, c => Get(c, "/api/inventory/products?page=-1")),
            new("GET /api/inventory/products", "page past int", 400, c => Get(c, "/api/inventory/products?page=99999999999")),
            new("GET /api/inventory/products", "pageSize 1000000", 400, c => Get(c, "/api/inventory/products?pageSize=1000000")),
            new("POST /api/inventory/reservations", "negative quantity", 400, c => SendJson(c, HttpMethod.Post, "/api/inventory/reservations",
                $"{{\"lines\":[{{\"productId\":\"{c.ProductId}\",\"quantity\":-5}}]}}", admin: true)),
            new("POST /api/inventory/reservations", "quantity 2^31", 400, c => SendJson(c, HttpMethod.Post, "/api/inventory/reservations",
                $"{{\"lines\":[{{\"productId\":\"{c.ProductId}\",\"quantity\":2147483648}}]}}", admin: true)),
            new("POST /api/inventory/reservations", "1000 lines", 400, c => SendJson(c, HttpMethod.Post, "/api/inventory/reservations",
                "{\"lines\":[" + string.Join(",", Enumerable.Repeat($"{{\"productId\":\"{c.ProductId}\",\"quantity\":1}}", 1000)) + "]}", admin: true)),

            // Path traversal in every path parameter.
            new("GET /api/inventory/products/{id}", "traversal", 404, c => Get(c, "/api/inventory/products/..%2F..%2Fappsettings.json")),
            new("GET /api/inventory/products/by-sku/{sku}", "traversal", 404, c => Get(c, "/api/inventory/products/by-sku/..%2F..%2F..%2Fetc%2Fpasswd")),
            new("PUT /api/inventory/products/{id}", "traversal", 404, c => SendJson(c, HttpMethod.Put, "/api/inventory/products/..%2F..%2Fx", ProductJson())),
            new("DELETE /api/inventory/products/{id}", "traversal", 404, c => Send(c, HttpMethod.Delete, "/api/inventory/products/..%2F..%2Fx", null, admin: true)),
            new("POST /api/inventory/products/{id}/stock", "traversal", 404, c => SendJson(c, HttpMethod.Post, "/api/inventory/products/..%2F..%2Fx/stock", "{\"delta\":1}")),
            new("GET /api/inventory/reservations/{id}", "traversal", 404, c => Get(c, "/api/inventory/reservations/..%5C..%5Cwin.ini")),
            new("POST /api/inventory/reservations/{id}/commit", "traversal", 404, c => SendJson(c, HttpMethod.Post, "/api/inventory/reservations/..%2F..%2Fx/commit", "{}", admin: false)),
            new("POST /api/inventory/reservations/{id}/release", "traversal", 404, c => SendJson(c, HttpMethod.Post, "/api/inventory/reservations/..%2F..%2Fx/release", "{}", admin: false)),
            new("GET /api/uploads/{id}", "traversal", 404, c => Get(c, "/api/uploads/..%2F..%2Foriginals")),
            new("GET /api/uploads/{id}/events", "traversal", 404, c => Get(c, "/api/uploads/..%2F..%2Fx/events")),
            new("GET /api/uploads?productId=", "traversal, without the key", 401, c => Get(c, "/api/uploads?productId=..%2F..%2Fetc%2Fpasswd")),
            new("GET /images/{uploadId}/{variant}", "encoded traversal to an original", 404, c => Get(c, $"/images/..%2Foriginals%2F{c.UploadId}.jpg")),
            new("GET /images/{uploadId}/{variant}", "traversal in the variant", 404, c => Get(c, $"/images/{c.UploadId}/..%2F..%2F..%2Fetc%2Fpasswd")),
            // HttpClient would normalise these before sending: the raw bytes go to the socket, to a real original.
            new("GET /images/{uploadId}/{variant}", "dot segments", 404, c => RawHttp(c, $"GET /images/{c.UploadId}/../../originals/{c.UploadId}.jpg HTTP/1.1\r\nHost: x\r\n\r\n")),
            new("GET /images/{uploadId}/{variant}", "backslashes", 404, c => RawHttp(c, $"GET /images/{c.UploadId}\\..\\..\\originals\\{c.UploadId}.jpg HTTP/1.1\r\nHost: x\r\n\r\n")),
            new("GET /images/{uploadId}/{variant}", "encoded dots", 404, c => RawHttp(c, $"GET /images/%2e%2e/originals/{c.UploadId}.jpg HTTP/1.1\r\nHost: x\r\n\r\n")),
            new("GET /images/{uploadId}/{variant}", "the storage root under /images", 404, c => Get(c, $"/images/originals/{c.UploadId}.jpg")),
        ];
    }

    private static async Task<int> Upload(
        Context c, byte[] content, string fileName, string? productId = null, string? idempotencyKey = null, string? adminKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/uploads");
        var key = adminKey ?? ReliabilityStorefront.AdminKey;
        if (key.Length > 0)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", fileName);
        if (productId is not null)
        {
            form.Add(new StringContent(productId), "productId");
        }

        request.Content = form;
        using var response = await c.Http.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            var accepted = await response.Content.ReadFromJsonAsync<AcceptedUpload>(StorefrontClient.Json);
            c.Accepted.Add(accepted!.Id);
        }

        return (int)response.StatusCode;
    }

    private static async Task<int> Multipart(Context c, Action<MultipartFormDataContent> fill)
    {
        var form = new MultipartFormDataContent();
        fill(form);
        return await Send(c, HttpMethod.Post, "/api/uploads", form, admin: true);
    }

    private static Task<int> Get(Context c, string path) => Send(c, HttpMethod.Get, path, null, admin: false);

    private static Task<int> SendJson(Context c, HttpMethod method, string path, string json, bool admin = true) =>
        Send(c, method, path, Raw(json, "application/json"), admin);

    private static async Task<int> Send(Context c, HttpMethod method, string path, HttpContent? content, bool admin, string? key = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (admin || key is not null)
        {
            request.Headers.Add("X-Api-Key", key ?? ReliabilityStorefront.AdminKey);
        }

        using var response = await c.Http.SendAsync(request);
        return (int)response.StatusCode;
    }

    private static HttpContent Raw(string body, string contentType) => Bytes(Encoding.UTF8.GetBytes(body), contentType);

    private static HttpContent Bytes(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private static string ProductJson(string price = "10", string stock = "1") =>
        $"{{\"sku\":\"H-{Guid.NewGuid().ToString("N")[..8]}\",\"name\":\"Hostile\",\"description\":\"x\",\"category\":\"Hostile\",\"price\":{price},\"currency\":\"EUR\",\"stock\":{stock}}}";

    /// <summary>Writes the request bytes as given (Latin-1, so \u00ff is the byte 0xFF) and reads the status code.</summary>
    private static async Task<int> RawHttp(Context c, string request)
    {
        using var tcp = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await tcp.ConnectAsync(c.Gateway.Host, c.Gateway.Port, timeout.Token);
        var stream = tcp.GetStream();
        try
        {
            await stream.WriteAsync(Encoding.Latin1.GetBytes(request), timeout.Token);
        }
        catch (IOException)
        {
            // The server may answer and close before it has read everything we send.
        }

        var buffer = new byte[64];
        var read = 0;
        while (read < 12)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), timeout.Token);
            if (n == 0)
            {
                return 0;
            }

            read += n;
        }

        return int.Parse(Encoding.ASCII.GetString(buffer, 9, 3), System.Globalization.CultureInfo.InvariantCulture);
    }

    private bool HasProcess(string resource) =>
        storefront.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.First(r => r.Name == resource)
            is ProjectResource or ExecutableResource;

    private void Log(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
