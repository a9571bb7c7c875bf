using System.Net.Http.Json;
using Reference.Reliability.Tests.Support;
using Reference.Tests.Support;

namespace Reference.Reliability.Tests;

public sealed partial class HostileInputTests
{
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
            // libvips, the default engine, decodes through noise in the entropy-coded data as browsers do (Ready, an image
            // with noise in it); ImageSharp refuses it (Failed). Either way the worker and every other upload are unharmed.
            new(uploads, "JPEG with a corrupted middle", 202, c => Upload(c, HostileFiles.CorruptedMiddle(jpeg), "noisy.jpg"), Then: "Ready"),
            // Pixel floods and decompression bombs.
            new(uploads, "PNG header claiming 100000x100000", 422, c => Upload(c, HostileFiles.PngClaiming(100_000, 100_000), "flood.png")),
            new(uploads, "JPEG header claiming 65000x65000", 422, c => Upload(c, HostileFiles.JpegClaiming(65_000, 65_000), "flood.jpg")),
            // libvips sizes a WebP by the canvas VP8X declares and refuses it past the pixel limit (Failed); ImageSharp sizes it
            // by its bitstream (8x8 here, Ready). Nothing floods with either.
            new(uploads, "WebP header claiming a 16384x16384 canvas", 202, c => Upload(c, HostileFiles.WebpClaiming(16_384), "flood.webp"), Then: "Failed"),
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
}
