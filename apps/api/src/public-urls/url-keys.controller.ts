import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems.decorator';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { UrlKeyDto, UrlKeyListDto } from './url-key.dto';
import { UrlKeysService } from './url-keys.service';
import { RequiresScope } from '../common/api-key-scope.decorator';

@ApiTags('public urls')
@ApiBearerAuth()
@RequiresScope('account')
@Controller('v1/url-keys')
export class UrlKeysController {
  constructor(private readonly keys: UrlKeysService) {}

  @Get()
  @ApiOperation({
    summary: 'Your signing keys of public image URLs',
    description:
      'Keys that sign `/i/{imageId}` URLs (HMAC-SHA256, see the README). The current key (`expiresAt: null`) is created on first use; replaced keys are listed while they still sign.',
  })
  @ApiResponse({ status: 200, type: UrlKeyListDto })
  @ApiProblems('unauthorized')
  async list(@CurrentUser() user: AuthUser): Promise<UrlKeyListDto> {
    return { keys: await this.keys.list(user.id) };
  }

  @Post('rotate')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Rotate the signing key',
    description: 'A new current key; URLs signed with the previous one keep working for 24 h, then answer 403 `signature_invalid`.',
  })
  @ApiResponse({ status: 201, type: UrlKeyDto })
  @ApiProblems('unauthorized')
  rotate(@CurrentUser() user: AuthUser): Promise<UrlKeyDto> {
    return this.keys.rotate(user.id);
  }
}
