using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;
using Reference.InventoryApi.Caching;
using Reference.InventoryApi.Infrastructure;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Apis;

public static class ProductsApi
{
    public const int DefaultPageSize = 24;
    public const int MaxPageSize = 100;
    private const int MinQueryLength = 2;
    private const int MaxQueryLength = 100;

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

        return app;
    }

    public static async Task<Results<Ok<ProductPage>, StatusCodeHttpResult, ValidationProblem>> GetProducts(
        [AsParameters] ProductServices services, HttpContext http,
        int? page, int? pageSize, string? category, string? q, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (page is < 1 or > 100_000)
        {
            errors["page"] = ["Must be between 1 and 100000."];
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            errors["pageSize"] = [$"Must be between 1 and {MaxPageSize}."];
        }

        if (ProductListKey.Normalise(q) is { Length: < MinQueryLength or > MaxQueryLength })
        {
            errors["q"] = [$"Between {MinQueryLength} and {MaxQueryLength} characters."];
        }

        if (category is { Length: > MaxQueryLength })
        {
            errors["category"] = [$"At most {MaxQueryLength} characters."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var pageNumber = page ?? 1;
        var size = pageSize ?? DefaultPageSize;
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
                query = query.Where(p => p.Name.Contains(q) || p.Sku.Contains(q));
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
        var product = await services.Cache.GetProductAsync(id, ct => LoadAsync(services.Db, id, ct), cancellationToken);
        return product is null ? ProductNotFound(id.ToString()) : WithETag(http, product);
    }

    public static async Task<Results<Ok<ProductResponse>, StatusCodeHttpResult, ProblemHttpResult>> GetProductBySku(
        string sku, [AsParameters] ProductServices services, HttpContext http, CancellationToken cancellationToken)
    {
        if (await services.Cache.GetIdBySkuAsync(sku) is { } cachedId
            && await services.Cache.GetProductAsync(cachedId, ct => LoadAsync(services.Db, cachedId, ct), cancellationToken) is { } cached
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
        var product = await services.Cache.GetProductAsync(id.Value, ct => LoadAsync(services.Db, id.Value, ct), cancellationToken);
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
        CreateProductRequest request, [AsParameters] ProductServices services, HttpContext http, CancellationToken cancellationToken)
    {
        var errors = request.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        // Checked first so the common case needs no failed INSERT; the unique index still decides races.
        if (await services.Db.Products.AnyAsync(p => p.Sku == request.Sku, cancellationToken))
        {
            return SkuTaken(request.Sku!);
        }

        var now = services.Clock.GetUtcNow();
        var product = new Product
        {
            Id = Guid.CreateVersion7(),
            Sku = request.Sku!,
            Name = request.Name!.Trim(),
            Description = request.Description?.Trim() ?? "",
            Category = request.Category!.Trim(),
            Price = request.Price!.Value,
            Currency = request.Currency!,
            OnHand = request.Stock ?? 0,
            CreatedAt = now,
            UpdatedAt = now,
            Version = 1,
        };
        services.Db.Products.Add(product);
        try
        {
            await services.Db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (IsDuplicateKey(e))
        {
            return SkuTaken(product.Sku);
        }

        await services.Cache.InvalidateAsync(product.Id);
        var response = ProductResponse.From(product);
        http.Response.Headers.ETag = ETags.ForVersion(response.Version);
        return TypedResults.Created($"/api/inventory/products/{product.Id}", response);
    }

    public static async Task<Results<Ok<ProductResponse>, ValidationProblem, ProblemHttpResult>> UpdateProduct(
        Guid id, UpdateProductRequest request, [AsParameters] ProductServices services, HttpContext http, CancellationToken cancellationToken)
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

        var product = await services.Db.Products.Include(p => p.Images).FirstOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (product is null)
        {
            return ProductNotFound(id.ToString());
        }

        if (ifMatch != -1 && ifMatch != product.Version)
        {
            return Stale(product.Version);
        }

        if (await services.Db.Products.AnyAsync(p => p.Sku == request.Sku && p.Id != id, cancellationToken))
        {
            return SkuTaken(request.Sku!);
        }

        product.Sku = request.Sku!;
        product.Name = request.Name!.Trim();
        product.Description = request.Description?.Trim() ?? "";
        product.Category = request.Category!.Trim();
        product.Price = request.Price!.Value;
        product.Currency = request.Currency!;
        product.UpdatedAt = services.Clock.GetUtcNow();
        // The concurrency token makes the UPDATE conditional on the version just checked.
        product.Version++;
        try
        {
            await services.Db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return Stale(null);
        }
        catch (DbUpdateException e) when (IsDuplicateKey(e))
        {
            return SkuTaken(product.Sku);
        }

        await services.Cache.InvalidateAsync(id);
        return WithETagOk(http, ProductResponse.From(product));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteProduct(
        Guid id, [AsParameters] ProductServices services, HttpContext http, CancellationToken cancellationToken)
    {
        var ifMatch = ETags.IfMatchVersion(http.Request);
        var deleted = await services.Db.Products
            .Where(p => p.Id == id && p.Reserved == 0 && (ifMatch == null || ifMatch == -1 || p.Version == ifMatch))
            .ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            var current = await services.Db.Products.AsNoTracking().Where(p => p.Id == id)
                .Select(p => new { p.Reserved, p.Version }).FirstOrDefaultAsync(cancellationToken);
            if (current is null)
            {
                return ProductNotFound(id.ToString());
            }

            if (ifMatch is not (null or -1) && ifMatch != current.Version)
            {
                return Stale(current.Version);
            }

            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "Product has reserved stock",
                detail: $"{current.Reserved} units are held by pending reservations; commit or release them first.");
        }

        await services.Cache.InvalidateAsync(id);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<ProductResponse>, ValidationProblem, ProblemHttpResult>> AdjustStock(
        Guid id, AdjustStockRequest request, [AsParameters] ProductServices services, HttpContext http, CancellationToken cancellationToken)
    {
        var errors = request.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var delta = request.Delta!.Value;
        var now = services.Clock.GetUtcNow();
        // Conditional, so two concurrent removals can never take available stock below zero.
        var updated = await services.Db.Products
            .Where(p => p.Id == id && p.OnHand + delta >= p.Reserved && p.OnHand + delta <= ProductFields.MaxQuantity * 10)
            .ExecuteUpdateAsync(s => s
                .SetProperty(p => p.OnHand, p => p.OnHand + delta)
                .SetProperty(p => p.Version, p => p.Version + 1)
                .SetProperty(p => p.UpdatedAt, now), cancellationToken);

        if (updated == 1)
        {
            await services.Cache.InvalidateAsync(id);
        }

        var product = await LoadAsync(services.Db, id, cancellationToken);
        if (product is null)
        {
            return ProductNotFound(id.ToString());
        }

        if (updated == 0)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "Stock adjustment refused",
                detail: $"Adding {delta} to on-hand {product.Stock.OnHand} would leave less than the {product.Stock.Reserved} reserved, or more than the limit.");
        }

        return WithETagOk(http, product);
    }

    internal static async Task<ProductResponse?> LoadAsync(InventoryDbContext db, Guid id, CancellationToken cancellationToken)
    {
        var product = await db.Products.AsNoTracking().Include(p => p.Images).FirstOrDefaultAsync(p => p.Id == id, cancellationToken);
        return product is null ? null : ProductResponse.From(product);
    }

    private static Results<Ok<ProductResponse>, StatusCodeHttpResult, ProblemHttpResult> WithETag(HttpContext http, ProductResponse product)
    {
        var etag = ETags.ForVersion(product.Version);
        http.Response.Headers.ETag = etag;
        return ETags.ClientHasCurrent(http.Request, etag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(product);
    }

    private static Ok<ProductResponse> WithETagOk(HttpContext http, ProductResponse product)
    {
        http.Response.Headers.ETag = ETags.ForVersion(product.Version);
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

    internal static bool IsDuplicateKey(DbUpdateException e) =>
        e.InnerException is MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry };
}

public sealed record ProductServices(InventoryDbContext Db, ProductCache Cache, TimeProvider Clock);
