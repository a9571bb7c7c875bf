using System.Net;
using System.Net.Http.Json;
using Reference.Tests.Storefront;

namespace Reference.Reliability.Tests.Support;

/// <summary>
/// What a real client does: one Idempotency-Key per upload, and the same request sent again
/// with the same key after a transport error or a 5xx, never after a 4xx. A 202 is the
/// storefront's promise.
/// </summary>
public sealed class RetryingUploader(StorefrontClient client, int maxTries = 12)
{
    public async Task<UploadAttempt> UploadAsync(byte[] content, string fileName, Guid? productId, CancellationToken cancellationToken)
    {
        var key = "reliability-" + Guid.NewGuid().ToString("N");
        var retries = 0;
        for (var tries = 1; ; tries++)
        {
            try
            {
                using var response = await client.UploadAsync(content, fileName, productId, key);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    var accepted = (await response.Content.ReadFromJsonAsync<AcceptedUpload>(StorefrontClient.Json, cancellationToken))!;
                    return new UploadAttempt(accepted.Id, productId, response.StatusCode, retries);
                }

                if ((int)response.StatusCode < 500 || tries == maxTries)
                {
                    return new UploadAttempt(null, productId, response.StatusCode, retries);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (tries == maxTries)
                {
                    return new UploadAttempt(null, productId, null, retries);
                }
            }

            retries++;
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 250 * (1 << Math.Min(tries, 5)))), cancellationToken);
        }
    }
}

/// <param name="Id">The accepted upload, or null when the storefront never answered 202.</param>
/// <param name="Retries">Requests sent again after a transport error or a 5xx.</param>
public sealed record UploadAttempt(Guid? Id, Guid? ProductId, HttpStatusCode? LastStatus, int Retries);
