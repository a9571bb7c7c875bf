using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Reference.Reliability.Tests.Support;
using Reference.Tests.Storefront;
using Reference.Tests.Support;

namespace Reference.Reliability.Tests;

public sealed partial class OutageTests
{
    [Fact]
    public async Task With_redis_down_uploads_get_202_and_are_all_ready_and_product_reads_are_served()
    {
        var client = storefront.CreateClient();
        var product = await client.CreateProductAsync(category: "RedisDown");
        await Faults.StopAsync(storefront.App, "cache");
        UploadStream stream;
        try
        {
            stream = await UploadDuringAsync(client, product.Id, RedisFaultLength, uploads: 40);
        }
        finally
        {
            await Faults.StartAsync(storefront.App, "cache");
        }

        var finished = await Task.WhenAll(stream.Accepted.Select(id => client.WaitUntilFinishedAsync(id, Settle)));
        Log($"redis-down: {stream.Sent} uploads during a {RedisFaultLength.TotalSeconds:0} s outage, {finished.Count(u => u.Status == "Ready")} ready, " +
            $"{finished.Count(u => u.Status == "Failed")} failed, reads served {100.0 * stream.ReadsServed / stream.Reads:0.#}% of {stream.Reads}");
        Assert.Equal(stream.Sent, stream.Accepted.Count);
        Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
        Assert.Equal(stream.Reads, stream.ReadsServed);
    }

    [Fact]
    public async Task With_redis_stalled_uploads_get_202_and_are_all_ready_and_product_reads_are_served()
    {
        var client = storefront.CreateClient();
        var product = await client.CreateProductAsync(category: "RedisStall");
        // CLIENT PAUSE holds every client's commands unanswered: the connections stay up, replies never come.
        await Faults.RedisCommandAsync(storefront.App, "CLIENT", "PAUSE", ((int)RedisFaultLength.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture), "ALL");
        var stream = await UploadDuringAsync(client, product.Id, RedisFaultLength, uploads: 40);
        // Blocks until the pause is over; then give the services' Redis clients a moment to find it
        // answering again, so the next test starts with a working cache.
        await Faults.RedisCommandAsync(storefront.App, "CLIENT", "UNPAUSE");
        await Task.Delay(TimeSpan.FromSeconds(5));

        var finished = await Task.WhenAll(stream.Accepted.Select(id => client.WaitUntilFinishedAsync(id, Settle)));
        Log($"redis-stall: {stream.Sent} uploads during a {RedisFaultLength.TotalSeconds:0} s stall (CLIENT PAUSE), {finished.Count(u => u.Status == "Ready")} ready, " +
            $"{finished.Count(u => u.Status == "Failed")} failed, reads served {100.0 * stream.ReadsServed / stream.Reads:0.#}% of {stream.Reads}" +
            (stream.Refused.Count == 0 ? "" : $" (not served: {string.Join(", ", stream.Refused)})"));
        Assert.Equal(stream.Sent, stream.Accepted.Count);
        Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
        Assert.Equal(stream.Reads, stream.ReadsServed);
    }

    private static readonly TimeSpan RedisFaultLength = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Sends <paramref name="uploads"/> uploads spread over <paramref name="length"/>, half for the product,
    /// reading the product page between them; each upload is sent once (a 202 is what is asked for).
    /// </summary>
    private static async Task<UploadStream> UploadDuringAsync(StorefrontClient client, Guid productId, TimeSpan length, int uploads)
    {
        var photos = Corpus.AllImages();
        var accepted = new List<Guid>();
        int reads = 0, served = 0;
        var refused = new List<string>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < uploads; i++)
        {
            var photo = photos[i % photos.Count];
            using (var response = await client.UploadAsync(await File.ReadAllBytesAsync(photo), Path.GetFileName(photo), i % 2 == 0 ? productId : null))
            {
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    accepted.Add((await response.Content.ReadFromJsonAsync<AcceptedUpload>(StorefrontClient.Json))!.Id);
                }
            }

            do
            {
                reads++;
                using var read = await client.Http.GetAsync($"/api/inventory/products/{productId}");
                served += read.StatusCode == HttpStatusCode.OK ? 1 : 0;
                if (read.StatusCode != HttpStatusCode.OK)
                {
                    // The body says which service answered and why (a ProblemDetails title, or the gateway's own).
                    var body = await read.Content.ReadAsStringAsync();
                    refused.Add($"{(int)read.StatusCode} at {clock.Elapsed.TotalSeconds:0.0} s: {body[..Math.Min(body.Length, 300)]}");
                }
                await Task.Delay(250);
            }
            while (clock.Elapsed < length * (i + 1) / uploads);
        }

        return new UploadStream(uploads, accepted, reads, served, refused);
    }

    private sealed record UploadStream(int Sent, List<Guid> Accepted, int Reads, int ReadsServed, List<string> Refused);
}
