using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Reference.UploadApi.Tests.Infrastructure;

namespace Reference.UploadApi.Tests;

/// <summary>
/// Each bad request gets its 4xx as ProblemDetails, leaves no row and no file behind, and a
/// good upload right after it still succeeds.
/// </summary>
[Collection(UploadApiCollection.Name)]
public sealed class BadInputTests(UploadApiFixture fixture)
{
    public static TheoryData<string> Cases => new()
    {
        "empty body", "empty file", "not multipart", "text named .jpg", "HTML named .jpg", "SVG",
        "JPEG cut inside its header", "PNG header claiming 100000x100000", "real 20000x20000 PNG",
        "body over the limit", "body over the limit sent chunked", "missing file field", "bad productId", "two files",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_bad_upload_gets_its_4xx_and_the_next_good_upload_succeeds(string name)
    {
        var (content, expected) = BadUpload(name);
        using var client = fixture.AdminClient();
        var rowsBefore = await fixture.WithDbAsync(db => db.Uploads.CountAsync());
        var filesBefore = Directory.Exists(fixture.OriginalsDirectory) ? Directory.GetFiles(fixture.OriginalsDirectory).Length : 0;

        var response = await client.PostAsync("/api/uploads", content);

        await response.AssertStatusAsync(expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.False(string.IsNullOrWhiteSpace(problem?.Detail));
        Assert.Equal(rowsBefore, await fixture.WithDbAsync(db => db.Uploads.CountAsync()));
        Assert.Equal(filesBefore, Directory.Exists(fixture.OriginalsDirectory) ? Directory.GetFiles(fixture.OriginalsDirectory).Length : 0);

        var good = await client.PostAsync("/api/uploads", UploadApiFixture.FormFromFile(TestImages.GoodJpeg));
        await good.AssertStatusAsync(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task A_jpeg_cut_in_its_image_data_is_accepted_because_only_decoding_can_tell()
    {
        // Decided: the header is whole, so the upload is accepted; the worker's decode fails it
        // with a reason (ImageProcessingFailed → Failed), which the consumer tests cover.
        var bytes = File.ReadAllBytes(TestImages.GoodJpeg);
        using var client = fixture.AdminClient();

        var response = await client.PostAsync("/api/uploads", UploadApiFixture.Form(bytes[..(bytes.Length / 2)]));

        await response.AssertStatusAsync(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task Uploading_without_the_admin_key_is_401_and_with_a_wrong_key_403()
    {
        using var anonymous = fixture.A.CreateClient();
        using var wrong = fixture.A.CreateClient();
        wrong.DefaultRequestHeaders.Add("X-Api-Key", "not-the-key");

        var missing = await anonymous.PostAsync("/api/uploads", UploadApiFixture.FormFromFile(TestImages.GoodJpeg));
        var forbidden = await wrong.PostAsync("/api/uploads", UploadApiFixture.FormFromFile(TestImages.GoodJpeg));

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("application/problem+json", forbidden.Content.Headers.ContentType?.MediaType);
    }

    private (HttpContent Content, HttpStatusCode Expected) BadUpload(string name) => name switch
    {
        "empty body" => (new ByteArrayContent([]), HttpStatusCode.BadRequest),
        "empty file" => (UploadApiFixture.Form([]), HttpStatusCode.BadRequest),
        "not multipart" => (JsonContent.Create(new { file = "photo.jpg" }), HttpStatusCode.UnsupportedMediaType),
        "text named .jpg" => (UploadApiFixture.Form(TestImages.Text), HttpStatusCode.UnsupportedMediaType),
        "HTML named .jpg" => (UploadApiFixture.Form(TestImages.Html), HttpStatusCode.UnsupportedMediaType),
        "SVG" => (UploadApiFixture.Form(TestImages.Svg, "logo.svg", "image/svg+xml"), HttpStatusCode.UnsupportedMediaType),
        "JPEG cut inside its header" => (UploadApiFixture.Form(TestImages.TruncatedJpeg(200)), HttpStatusCode.UnprocessableEntity),
        "PNG header claiming 100000x100000" => (UploadApiFixture.Form(TestImages.PngClaiming(100_000, 100_000), "big.png", "image/png"),
            HttpStatusCode.UnprocessableEntity),
        "real 20000x20000 PNG" => (UploadApiFixture.FormFromFile(fixture.HugePng), HttpStatusCode.UnprocessableEntity),
        "body over the limit" => (UploadApiFixture.FormFromFile(TestImages.LargeJpeg), HttpStatusCode.RequestEntityTooLarge),
        "body over the limit sent chunked" => (ChunkedForm(File.ReadAllBytes(TestImages.LargeJpeg)), HttpStatusCode.RequestEntityTooLarge),
        "missing file field" => (OnlyProductId(), HttpStatusCode.BadRequest),
        "bad productId" => (UploadApiFixture.Form(File.ReadAllBytes(TestImages.GoodJpeg), productId: "not-a-guid"), HttpStatusCode.BadRequest),
        "two files" => (TwoFiles(), HttpStatusCode.BadRequest),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static MultipartFormDataContent OnlyProductId()
    {
        var form = new MultipartFormDataContent();
        form.Add(new StringContent(Guid.NewGuid().ToString()), "productId");
        return form;
    }

    /// <summary>No Content-Length: the limit can only be enforced while the file streams in.</summary>
    private static MultipartFormDataContent ChunkedForm(byte[] file)
    {
        var form = new MultipartFormDataContent();
        var part = new StreamContent(new UnseekableStream(file));
        part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(part, "file", "large.jpg");
        return form;
    }

    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    private static MultipartFormDataContent TwoFiles()
    {
        var form = UploadApiFixture.Form(File.ReadAllBytes(TestImages.GoodJpeg));
        var second = new ByteArrayContent(File.ReadAllBytes(TestImages.GoodJpeg));
        second.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(second, "file", "second.jpg");
        return form;
    }
}
