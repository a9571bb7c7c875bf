using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Reference.Tests.Storefront;

namespace Reference.AppHost.Tests;

/// <summary>The S3 fault run's client side: a client that retries, status polls within the rate limit, and the probe.</summary>
public sealed partial class ObjectStorageTests
{
    /// <summary>Sends the upload again with the same Idempotency-Key after a 5xx or a transport error, as a client does.</summary>
    private static async Task<(Guid? Id, int Retries, string Last)> UploadWithRetriesAsync(
        StorefrontClient client, byte[] content, string name, Guid? product, CancellationToken cancellationToken)
    {
        var key = "s3-faults-" + Guid.NewGuid().ToString("N");
        var last = "";
        for (var tries = 0; tries < 15; tries++)
        {
            try
            {
                using var response = await client.UploadAsync(content, name, product, key);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    var accepted = (await response.Content.ReadFromJsonAsync<AcceptedUpload>(StorefrontClient.Json, cancellationToken))!;
                    return (accepted.Id, tries, "202");
                }

                last = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                if ((int)response.StatusCode < 500)
                {
                    return (null, tries, last);
                }
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500 * (tries + 1)), cancellationToken);
        }

        return (null, 15, last);
    }

    /// <summary>Polls the unfinished ones only, in rounds, to stay inside the admin's API rate limit.</summary>
    private static async Task<IReadOnlyList<UploadDto>> WaitUntilAllFinishedAsync(StorefrontClient client, IReadOnlyList<Guid> ids, TimeSpan timeout)
    {
        var finished = new Dictionary<Guid, UploadDto>();
        var deadline = Stopwatch.StartNew();
        while (finished.Count < ids.Count)
        {
            Assert.True(deadline.Elapsed < timeout, $"{ids.Count - finished.Count} uploads not finished after {timeout.TotalMinutes} min");
            foreach (var upload in await Task.WhenAll(ids.Where(id => !finished.ContainsKey(id)).Select(client.GetUploadAsync)))
            {
                if (upload.Status is "Ready" or "Failed")
                {
                    finished[upload.Id] = upload;
                }
            }

            await Task.Delay(1500);
        }

        return finished.Values.ToList();
    }

    private static async Task<int> CountUnfinishedAsync(StorefrontClient client, IReadOnlyList<Guid> ids) =>
        (await Task.WhenAll(ids.Select(client.GetUploadAsync))).Count(u => u.Status is not ("Ready" or "Failed"));

    private static async Task<(int Whole, int Errors, int Cut)> ProbeAsync(HttpClient http, VariantDto variant, CancellationToken cancellationToken)
    {
        var (whole, errors, cut) = (0, 0, 0);
        while (!cancellationToken.IsCancellationRequested)
        {
            using var response = await SendOrNullAsync(http, variant.Url);
            if (response?.StatusCode != HttpStatusCode.OK)
            {
                errors++;
            }
            else
            {
                // A 200 whose body breaks off, or is short, is a cut object.
                try
                {
                    var length = (await response.Content.ReadAsByteArrayAsync(CancellationToken.None)).Length;
                    (whole, cut) = length == variant.Bytes ? (whole + 1, cut) : (whole, cut + 1);
                }
                catch (Exception e) when (e is IOException or HttpRequestException)
                {
                    cut++;
                }
            }

            await Task.Delay(100, CancellationToken.None);
        }

        return (whole, errors, cut);
    }

    private static async Task<HttpResponseMessage?> SendOrNullAsync(HttpClient http, string url)
    {
        try
        {
            return await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, CancellationToken.None);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }
}
