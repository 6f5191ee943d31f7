import { ApiProperty } from '@nestjs/swagger';

export class SrcsetDto {
  @ApiProperty({ example: 'http://localhost:3000/i/0b5e6f1c-8d3a-4f2e-9c71-2a4b6d8e0f13?format=auto&resize=1280x&sig=…', description: 'The widest rendition, for browsers without srcset.' })
  src: string;
  @ApiProperty({ example: 'http://localhost:3000/i/…&resize=320x&sig=… 320w, http://localhost:3000/i/…&resize=640x&sig=… 640w' })
  srcset: string;
  @ApiProperty({ example: '(max-width: 1280px) 100vw, 1280px' })
  sizes: string;
  @ApiProperty({ example: '<img src="…" srcset="…" sizes="…" alt="">' })
  html: string;
}
