using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Reference.InventoryApi.Caching;
using Reference.InventoryApi.Infrastructure;
using Reference.InventoryApi.Products;

namespace Reference.InventoryApi.Apis;

public static class ProductsApi
{
    public static IEndpointRouteBuilder MapProductsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/inventory").WithTags("Products");

        api.MapGet("/products", GetProducts);
        api.MapGet("/products/{id:guid}", GetProductById);
        api.MapGet("/products/by-sku/{sku}", GetProductBySku);
        api.MapGet("/categories", GetCategories);

        var admin = api.MapGroup("").RequireAdminKey();
        admin.MapPost("/products", CreateProduct);
        admin.MapPut("/products/{id:guid}", UpdateProduct);
        admin.MapDelete("/products/{id:guid}", DeleteProduct);
        admin.MapPost("/products/{id:guid}/stock", AdjustStock);
        admin.MapDelete("/products/{id:guid}/images/{uploadId:guid}", DeleteImage);

        return app;
    }

    public static async Task<Results<Ok<ProductPage>, StatusCodeHttpResult, ValidationProblem>> GetProducts(
        [AsParameters] ProductServices services, HttpContext http,
        int? page, int? pageSize, string? category, string? q, CancellationToken cancellationToken)
    {
        var errors = ProductListQuery.Validate(page, pageSize, category, q);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var pageNumber = page ?? 1;
        var size = pageSize ?? ProductListQuery.DefaultPageSize;
        category = ProductListKey.Normalise(category);
        q = ProductListKey.Normalise(q);

        var key = ProductListKey.For(pageNumber, size, category, q);
        var result = await services.Cache.GetProductListAsync(key, async ct =>
        {
            var query = services.Db.Products.AsNoTracking();
            if (category is not null)
            {
                query = query.Where(p => p.Category == category);
            }

            if (q is not null)
            {
                query = query.Matching(q);
            }

            var total = await query.CountAsync(ct);
            var items = await query
                .OrderBy(p => p.Name).ThenBy(p => p.Id)
                .Skip((pageNumber - 1) * size).Take(size)
                .Include(p => p.Images)
                .AsSplitQuery()
                .ToListAsync(ct);
            return new ProductPage(items.Select(ProductResponse.From).ToList(), pageNumber, size, total);
        }, cancellationToken);

        var etag = ETags.ForPage(result!);
        http.Response.Headers.ETag = etag;
        return ETags.ClientHasCurrent(http.Request, etag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(result);
    }

    public static async Task<Results<Ok<ProductResponse>, StatusCodeHttpResult, ProblemHttpResult>> GetProductById(
        Guid id, [AsParameters] ProductServices services, HttpContext http, CancellationToken cancellationToken)
    {
        var product = await services.Cache.GetProductAsync(id, ct => services.Catalog.FindAsync(id, ct), cancellationToken);
        return product is null ? ProductNotFound(id.ToString()) : WithETag(http, product);
    }

    public static async Task<Results<Ok<ProductResponse>, StatusCodeHttpResult, ProblemHttpResult>> GetProductBySku(
        string sku, [AsParameters] ProductServices services, HttpContext http, CancellationToken cancellationToken)
    {
        if (await services.Cache.GetIdBySkuAsync(sku) is { } cachedId
            && await services.Cache.GetProductAsync(cachedId, ct => services.Catalog.FindAsync(cachedId, ct), cancellationToken) is { } cached
            && string.Equals(cached.Sku, sku, StringComparison.OrdinalIgnoreCase))
        {
            return WithETag(http, cached);
        }

        var id = await services.Db.Products.AsNoTracking().Where(p => p.Sku == sku).Select(p => (Guid?)p.Id)
            .FirstOrDefaultAsync(cancellationToken);
        if (id is null)
        {
            return ProductNotFound(sku);
        }

        await services.Cache.RememberSkuAsync(sku, id.Value);
        var product = await services.Cache.GetProductAsync(id.Value, ct => services.Catalog.FindAsync(id.Value, ct), cancellationToken);
        return product is null ? ProductNotFound(sku) : WithETag(http, product);
    }

    public static async Task<Ok<string[]>> GetCategories([AsParameters] ProductServices services, CancellationToken cancellationToken)
    {
        var categories = await services.Cache.GetListAsync("categories", async ct =>
            await services.Db.Products.AsNoTracking().Select(p => p.Category).Distinct().OrderBy(c => c).ToArrayAsync(ct),
            cancellationToken);
        return TypedResults.Ok(categories ?? []);
    }

    public static async Task<Results<Created<ProductResponse>, ValidationProblem, ProblemHttpResult>> CreateProduct(
        CreateProductRequest request, ProductCatalog catalog, HttpContext http, CancellationToken cancellationToken)
    {
        var errors = request.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var write = await catalog.CreateAsync(request, cancellationToken);
        if (write.Status != ProductWriteStatus.Done)
        {
            return Refused(write, request.Sku!);
        }

        var product = write.Product!;
        http.Response.Headers.ETag = ETags.For(product);
        return TypedResults.Created($"/api/inventory/products/{product.Id}", product);
    }

    public static async Task<Results<Ok<ProductResponse>, ValidationProblem, ProblemHttpResult>> UpdateProduct(
        Guid id, UpdateProductRequest request, ProductCatalog catalog, HttpContext http, CancellationToken cancellationToken)
    {
        var ifMatch = ETags.IfMatchVersion(http.Request);
        if (ifMatch is null)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status428PreconditionRequired,
                title: "If-Match required",
                detail: "Send the product's ETag in If-Match, so a change made since you read it is not overwritten.");
        }

        var errors = request.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var write = await catalog.UpdateAsync(id, ifMatch.Value, request, cancellationToken);
        return write.Status == ProductWriteStatus.Done ? WithETagOk(http, write.Product!) : Refused(write, id.ToString(), request.Sku);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteProduct(
        Guid id, ProductCatalog catalog, HttpContext http, CancellationToken cancellationToken)
    {
        var write = await catalog.DeleteAsync(id, ETags.IfMatchVersion(http.Request), cancellationToken);
        return write.Status == ProductWriteStatus.Done ? TypedResults.NoContent() : Refused(write, id.ToString());
    }

    /// <summary>Takes an image off the product and has its original and variants removed from storage.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteImage(
        Guid id, Guid uploadId, ProductCatalog catalog, CancellationToken cancellationToken) =>
        await catalog.DeleteImageAsync(id, uploadId, cancellationToken) switch
        {
            ImageRemoval.Removed => TypedResults.NoContent(),
            ImageRemoval.NoProduct => ProductNotFound(id.ToString()),
            ImageRemoval.NotOnProduct => TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound, title: "Image not found", detail: $"Product {id} has no image {uploadId}."),
            _ => TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Image not deleted",
                detail: "The message broker could not be reached to remove the image's files, so the image stays; try again shortly."),
        };

    public static async Task<Results<Ok<ProductResponse>, ValidationProblem, ProblemHttpResult>> AdjustStock(
        Guid id, AdjustStockRequest request, ProductCatalog catalog, HttpContext http, CancellationToken cancellationToken)
    {
        var errors = request.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var delta = request.Delta!.Value;
        var write = await catalog.AdjustStockAsync(id, delta, cancellationToken);
        return write.Status switch
        {
            ProductWriteStatus.Done => WithETagOk(http, write.Product!),
            ProductWriteStatus.StockRefused => TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "Stock adjustment refused",
                detail: $"Adding {delta} to on-hand {write.Product!.Stock.OnHand} would leave less than the {write.Product.Stock.Reserved} reserved, or more than the limit."),
            _ => Refused(write, id.ToString()),
        };
    }

    /// <summary>The problem for a write that did not happen.</summary>
    private static ProblemHttpResult Refused(ProductWrite write, string idOrSku, string? sku = null) => write.Status switch
    {
        ProductWriteStatus.NotFound => ProductNotFound(idOrSku),
        ProductWriteStatus.Stale => Stale(write.CurrentVersion),
        ProductWriteStatus.SkuTaken => SkuTaken(sku ?? idOrSku),
        ProductWriteStatus.HasReservations => TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Product has reserved stock",
            detail: $"{write.Reserved} units are held by pending reservations; commit or release them first."),
        _ => throw new InvalidOperationException($"{write.Status} is not a refusal."),
    };

    private static Results<Ok<ProductResponse>, StatusCodeHttpResult, ProblemHttpResult> WithETag(HttpContext http, ProductResponse product)
    {
        var etag = ETags.For(product);
        http.Response.Headers.ETag = etag;
        return ETags.ClientHasCurrent(http.Request, etag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(product);
    }

    private static Ok<ProductResponse> WithETagOk(HttpContext http, ProductResponse product)
    {
        http.Response.Headers.ETag = ETags.For(product);
        return TypedResults.Ok(product);
    }

    private static ProblemHttpResult ProductNotFound(string idOrSku) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Product not found", detail: $"No product {idOrSku}.");

    private static ProblemHttpResult Stale(int? currentVersion) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status412PreconditionFailed,
            title: "Product changed since it was read",
            detail: currentVersion is null
                ? "If-Match does not name the current version; read the product again."
                : $"If-Match does not name the current version {ETags.ForVersion(currentVersion.Value)}; read the product again.");

    private static ProblemHttpResult SkuTaken(string sku) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "SKU already in use", detail: $"Another product has SKU {sku}.");
}

public sealed record ProductServices(InventoryDbContext Db, ProductCache Cache, ProductCatalog Catalog);
