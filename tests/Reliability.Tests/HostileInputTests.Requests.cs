using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Reference.Reliability.Tests.Support;
using Reference.Tests.Storefront;

namespace Reference.Reliability.Tests;

public sealed partial class HostileInputTests
{
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
}
