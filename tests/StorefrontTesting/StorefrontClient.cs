using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Reference.Tests.Storefront;

/// <summary>What a shop owner's script does through the gateway: create products, upload images, wait for them.</summary>
public sealed class StorefrontClient(HttpClient http, string adminKey)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public HttpClient Http => http;

    public async Task<ProductDto> CreateProductAsync(string category = "E2E", int stock = 10)
    {
        var sku = "E2E-" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();
        using var request = Admin(HttpMethod.Post, "/api/inventory/products");
        request.Content = JsonContent.Create(new
        {
            sku,
            name = $"Test product {sku}",
            description = "Made by an end-to-end test.",
            category,
            price = 12.5m,
            currency = "EUR",
            stock,
        });
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ProductDto>(Json))!;
    }

    public async Task<ProductDto> GetProductAsync(Guid id) =>
        (await http.GetFromJsonAsync<ProductDto>($"/api/inventory/products/{id}", Json))!;

    public async Task<HttpResponseMessage> UploadAsync(
        byte[] content, string fileName, Guid? productId = null, string? idempotencyKey = null, string? adminKeyOverride = null)
    {
        using var request = Admin(HttpMethod.Post, "/api/uploads", adminKeyOverride);
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", fileName);
        if (productId is { } id)
        {
            form.Add(new StringContent(id.ToString()), "productId");
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        request.Content = form;
        return await http.SendAsync(request);
    }

    public async Task<AcceptedUpload> UploadAcceptedAsync(string path, Guid? productId = null)
    {
        using var response = await UploadAsync(await File.ReadAllBytesAsync(path), Path.GetFileName(path), productId);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await response.Content.ReadFromJsonAsync<AcceptedUpload>(Json))!;
        Assert.Equal($"/api/uploads/{accepted.Id}", response.Headers.Location?.OriginalString);
        return accepted;
    }

    public async Task<UploadDto> GetUploadAsync(Guid id)
    {
        using var response = await GetAsAdminAsync($"/api/uploads/{id}");
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<UploadDto>(Json))!;
    }

    /// <summary>Upload statuses are the admin's: the key goes along.</summary>
    public async Task<HttpResponseMessage> GetAsAdminAsync(string path)
    {
        using var request = Admin(HttpMethod.Get, path);
        return await http.SendAsync(request);
    }

    public async Task<HttpResponseMessage> DeleteAsAdminAsync(string path)
    {
        using var request = Admin(HttpMethod.Delete, path);
        return await http.SendAsync(request);
    }

    /// <summary>Polls the status URL until the upload is Ready or Failed.</summary>
    public async Task<UploadDto> WaitUntilFinishedAsync(Guid id, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            var upload = await GetUploadAsync(id);
            if (upload.Status is "Ready" or "Failed")
            {
                return upload;
            }

            await Task.Delay(100, cts.Token);
        }
    }

    /// <summary>Waits until InventoryApi has applied the upload's ImageProcessed event to the product.</summary>
    public async Task<ProductDto> WaitUntilProductListsAsync(Guid productId, Guid uploadId, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var product = await GetProductAsync(productId);
            if (product.Images.Any(i => i.UploadId == uploadId))
            {
                return product;
            }

            await Task.Delay(100, cts.Token);
        }
    }

    /// <summary>A write with the admin key and a JSON body, answered as it comes (no status check).</summary>
    public async Task<HttpResponseMessage> SendAdminAsync(HttpMethod method, string path, object body)
    {
        using var request = Admin(method, path);
        request.Content = JsonContent.Create(body);
        return await http.SendAsync(request);
    }

    private HttpRequestMessage Admin(HttpMethod method, string path, string? keyOverride = null)
    {
        var request = new HttpRequestMessage(method, path);
        var key = keyOverride ?? adminKey;
        if (key.Length > 0)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        return request;
    }
}

public sealed record ProductDto(Guid Id, string Sku, string Name, string Category, decimal Price, string Currency,
    StockDto Stock, IReadOnlyList<ProductImageDto> Images);

public sealed record StockDto(int OnHand, int Reserved, int Available);

public sealed record ProductImageDto(Guid UploadId, string? Alt, IReadOnlyList<VariantDto> Variants, string? Placeholder = null);

public sealed record VariantDto(string Name, int Width, int Height, string Format, long Bytes, string Url);

public sealed record AcceptedUpload(Guid Id, string Status, string StatusUrl);

public sealed record UploadDto(Guid Id, Guid? ProductId, string Status, string? Reason, int Attempts, IReadOnlyList<VariantDto>? Variants);
